/**
 * The key ring the end-to-end servers run with (APP_SECRET_KEYS): a fixed, public, test-only
 * key, so several instances of one test run agree. Never a production key.
 */
export const E2E_SECRET_KEYS = `e2e:${Buffer.alloc(32, 42).toString('base64')}`;
