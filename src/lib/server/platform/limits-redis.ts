import { log } from '../core/log';
import { Redis, type Result } from 'ioredis';
import type { RateLimitStore, Window } from './limits';
import type { Db } from '../db/database';
import { onRollback } from '../db/transaction-hooks';

/**
 * docs/rules.md §9: the rate-limit counters in Redis (REDIS_URL), with the semantics of the SQL store in
 * `limits.ts`. Each key is a hash { count, reset } under `asc:rl:`. Times come from the app's
 * clock, never from Redis TIME, so tests and the APP_TEST_HOOKS clock move windows; expiry is set
 * as a relative TTL (reset − now) so keys vanish by themselves even when the app clock is not
 * Redis's (PEXPIREAT with a clock in the past would delete a window the moment it opens).
 *
 * Transactions: the SQL store counts inside the caller's transaction, so a rollback takes its
 * hits back. Redis is outside any transaction, so when `db` is one, each change registers its
 * inverse with the transaction (`db/transaction-hooks.ts`): a hit is refunded from the window it
 * was counted in, a refund is counted again in its window, and a `blockUntil` or `clear` puts the
 * key back as it was. A counter therefore means the same in both stores: what committed work (and
 * work outside a transaction) counted. Until the rollback, the hit counts, as the SQL row does for
 * its own transaction (stricter, never looser, for parallel requests).
 */

// ARGV: now, the reset of a new window (now + window), the window in ms.
const HIT = `
local reset = redis.call('HGET', KEYS[1], 'reset')
if reset and tonumber(reset) > tonumber(ARGV[1]) then
	return { redis.call('HINCRBY', KEYS[1], 'count', 1), reset }
end
redis.call('HSET', KEYS[1], 'count', 1, 'reset', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { 1, ARGV[2] }
`;

// hitMany: several keys in one call. ARGV: now, then for each key the reset of a new window
// (now + window), the window in ms and its max. Each key is counted as HIT counts it, and only
// while every key before it stayed within its max.
const HIT_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
	local a = 3 * i - 1
	local count, reset
	local current = redis.call('HGET', key, 'reset')
	if current and tonumber(current) > tonumber(ARGV[1]) then
		count, reset = redis.call('HINCRBY', key, 'count', 1), current
	else
		count, reset = 1, ARGV[a]
		redis.call('HSET', key, 'count', 1, 'reset', reset)
		redis.call('PEXPIRE', key, ARGV[a + 1])
	end
	out[#out + 1] = count
	out[#out + 1] = reset
	if count > tonumber(ARGV[a + 2]) then break end
end
return out
`;

// ARGV: the reset of the window a refund took a hit from; it is given back to that window only.
const UNREFUND = `
local reset = redis.call('HGET', KEYS[1], 'reset')
if reset == ARGV[1] then
	redis.call('HINCRBY', KEYS[1], 'count', 1)
end
return 0
`;

// ARGV: the reset of the window the hit was counted in.
const REFUND = `
local reset = redis.call('HGET', KEYS[1], 'reset')
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if reset == ARGV[1] and count > 0 then
	redis.call('HINCRBY', KEYS[1], 'count', -1)
	return 1
end
return 0
`;

declare module 'ioredis' {
	interface RedisCommander<Context> {
		ascRateLimitHit(
			key: string,
			now: string,
			reset: string,
			windowMs: string
		): Result<[number, string], Context>;
		ascRateLimitHitMany(
			numberOfKeys: number,
			...keysAndArgs: string[]
		): Result<(number | string)[], Context>;
		ascRateLimitRefund(key: string, reset: string): Result<number, Context>;
		ascRateLimitUnrefund(key: string, reset: string): Result<number, Context>;
	}
}

export const REDIS_KEY_PREFIX = 'asc:rl:';

export interface RedisStoreOptions {
	/** Tests give each run its own prefix (still under `asc:rl:`). */
	prefix?: string;
}

/** Connects (failing fast when Redis cannot be reached) and returns the store. */
export async function openRedisRateLimitStore(
	url: string,
	options: RedisStoreOptions = {}
): Promise<RateLimitStore> {
	const client = new Redis(url, {
		lazyConnect: false,
		maxRetriesPerRequest: 2,
		enableOfflineQueue: false,
		connectTimeout: 5_000
	});
	let onError: (error: Error) => void = () => {};
	try {
		await new Promise<void>((resolve, reject) => {
			onError = reject;
			client.once('ready', () => resolve());
			client.once('error', onError);
		});
	} catch (error) {
		client.disconnect();
		// Never echo the URL: it may carry a password.
		throw new Error(
			`REDIS_URL: cannot reach Redis (${error instanceof Error ? error.message : String(error)})`,
			{
				cause: error
			}
		);
	}
	client.off('error', onError);
	let lastError = '';
	client.on('error', (error: Error) => {
		// ioredis reconnects by itself; say so once per distinct failure, not on every retry.
		if (error.message !== lastError)
			log.error({ event: 'rate_limit.redis_error', message: error.message });
		lastError = error.message;
	});
	client.on('ready', () => (lastError = ''));
	client.defineCommand('ascRateLimitHit', { numberOfKeys: 1, lua: HIT });
	client.defineCommand('ascRateLimitHitMany', { lua: HIT_MANY });
	client.defineCommand('ascRateLimitRefund', { numberOfKeys: 1, lua: REFUND });
	client.defineCommand('ascRateLimitUnrefund', { numberOfKeys: 1, lua: UNREFUND });
	return redisRateLimitStore(client, options);
}

function redisRateLimitStore(
	client: Redis,
	{ prefix = REDIS_KEY_PREFIX }: RedisStoreOptions
): RateLimitStore {
	const k = (key: string) => prefix + key;
	/** The key as it is now, and a function that puts it back so (for a rolled-back block or clear). */
	async function snapshot(key: string): Promise<() => Promise<unknown>> {
		const [[, fields], [, ttl]] = ((await client.multi().hgetall(key).pttl(key).exec()) ?? [
			[null, {}],
			[null, -2]
		]) as [[unknown, Record<string, string>], [unknown, number]];
		if (!fields.count || !fields.reset || ttl <= 0) return () => client.del(key);
		return () =>
			client
				.multi()
				.del(key)
				.hset(key, 'count', fields.count!, 'reset', fields.reset!)
				.pexpire(key, ttl)
				.exec();
	}
	/** Inside a transaction, `change` is taken back if it rolls back (`db/transaction-hooks.ts`). */
	async function undoable(db: Db, key: string, change: () => Promise<unknown>): Promise<void> {
		if (!db.isTransaction) {
			await change();
			return;
		}
		const restore = await snapshot(key);
		await change();
		await onRollback(db, restore);
	}
	return {
		async hit(db, key, windowMs, nowMs): Promise<Window> {
			const [count, reset] = await client.ascRateLimitHit(
				k(key),
				String(nowMs),
				String(nowMs + windowMs),
				String(windowMs)
			);
			// Rolled back: the hit leaves the window it was counted in (others' hits stay).
			await onRollback(db, () => client.ascRateLimitRefund(k(key), reset));
			return { count: Number(count), resetAt: Number(reset) };
		},
		async hitMany(db, hits, nowMs): Promise<Window[]> {
			const flat = await client.ascRateLimitHitMany(
				hits.length,
				...hits.map((h) => k(h.key)),
				String(nowMs),
				...hits.flatMap((h) => [String(nowMs + h.windowMs), String(h.windowMs), String(h.max)])
			);
			const windows: Window[] = [];
			for (let i = 0; i < flat.length; i += 2)
				windows.push({ count: Number(flat[i]), resetAt: Number(flat[i + 1]) });
			// Rolled back: each hit leaves the window it was counted in.
			await onRollback(db, () =>
				Promise.all(
					windows.map((w, i) => client.ascRateLimitRefund(k(hits[i]!.key), String(w.resetAt)))
				)
			);
			return windows;
		},
		async peek(_db, key, nowMs) {
			const [count, reset] = await client.hmget(k(key), 'count', 'reset');
			if (count === null || reset === null || Number(reset) <= nowMs) return null;
			return { count: Number(count), resetAt: Number(reset) };
		},
		async blockUntil(db, key, untilMs, nowMs) {
			const ttl = untilMs - nowMs;
			await undoable(db, k(key), async () => {
				// A block already over is no block: the SQL row it would leave reads as absent too.
				if (ttl <= 0) {
					await client.del(k(key));
					return;
				}
				const results = await client
					.multi()
					.hset(k(key), 'count', 1, 'reset', String(untilMs))
					.pexpire(k(key), ttl)
					.exec();
				const failed = results?.find(([error]) => error);
				if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
			});
		},
		async refund(db, key, resetAt) {
			const took = await client.ascRateLimitRefund(k(key), String(resetAt));
			// Rolled back: the hit it took goes back into that window (a refund that took none, none).
			if (Number(took) === 1)
				await onRollback(db, () => client.ascRateLimitUnrefund(k(key), String(resetAt)));
		},
		async clear(db, key) {
			await undoable(db, k(key), () => client.del(k(key)));
		},
		// Every hit is stored when it is counted.
		async flush() {},
		async close() {
			await client.quit().catch(() => client.disconnect());
		}
	};
}
