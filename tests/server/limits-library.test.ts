import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hit } from '../../src/lib/server/platform/limits';
import {
	openRedisRateLimitStore,
	REDIS_KEY_PREFIX
} from '../../src/lib/server/platform/limits-redis';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testRedisUrl } from '../support/redis';

/**
 * Why `platform/limits.ts` keeps its own windows instead of rate-limiter-flexible: the library's
 * stores read the wall clock (its Redis windows are Redis TTLs), and the rules need the app's
 * clock — tests and the APP_TEST_HOOKS clock move it to end a window or a sign-in delay.
 */
const REDIS_URL = testRedisUrl();
let database: TestDatabase;
let redis: Redis;

beforeAll(async () => {
	const sqlite = testDatabases.find((kind) => kind.name === 'sqlite');
	if (!sqlite) throw new Error('no SQLite test database');
	database = await sqlite.open();
	redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
	redis?.disconnect();
	await database?.dispose();
});

describe('rate-limiter-flexible and the app clock', () => {
	it('R15: its Redis store keeps counting in a window the app clock has already left; ours opens a new one', async () => {
		const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
		const app = {
			...testAppContext(database),
			limits: await openRedisRateLimitStore(REDIS_URL, { prefix })
		};
		const library = new RateLimiterRedis({
			storeClient: redis,
			keyPrefix: `${prefix}lib`,
			points: 5,
			duration: 60
		});
		try {
			await library.consume('k');
			await hit(app, 'k', 60_000);
			app.clock.advance(60_000);
			expect((await library.consume('k')).consumedPoints).toBe(2);
			expect((await hit(app, 'k', 60_000)).count).toBe(1);
		} finally {
			const keys = await redis.keys(`${prefix}*`);
			if (keys.length > 0) await redis.del(...keys);
			await app.limits.close();
		}
	});
});
