/**
 * The Redis the tests use: TEST_REDIS_URL, which the test command (scripts/test-services.ts)
 * always sets — to the machine's service on CI, or to a throw-away server of its own. Run
 * directly (`npx vitest`), the tests fall back to a local Redis on its standard port.
 */
export function testRedisUrl(): string {
	return process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
}
