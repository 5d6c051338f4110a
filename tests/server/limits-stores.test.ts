import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { FixedClock } from '../../src/lib/server/core/clock';
import type { Ctx } from '../../src/lib/server/core/context';
import {
	blockUntil,
	clear,
	hit,
	limitAddress,
	limitAll,
	peek,
	refund,
	sqlRateLimitStore,
	type RateLimitStore
} from '../../src/lib/server/platform/limits';
import { memoryRateLimitStore } from '../../src/lib/server/platform/limits-memory';
import {
	openRedisRateLimitStore,
	REDIS_KEY_PREFIX
} from '../../src/lib/server/platform/limits-redis';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';
import { testRedisUrl } from '../support/redis';

/**
 * R15: the three stores of the rate-limit windows — in the process on SQLite (written
 * behind), Redis, the `rate_limits` table on PostgreSQL — count the same, exactly, in one call per
 * check, and the in-process one keeps its windows across a restart.
 */
const REDIS_URL = testRedisUrl();
const MINUTE = 60_000;
const START = '2026-11-26T12:00:00Z';

let admin: Redis;
const redisStores: { store: RateLimitStore; prefix: string }[] = [];

async function redisStore(): Promise<RateLimitStore> {
	const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
	const store = await openRedisRateLimitStore(REDIS_URL, { prefix });
	redisStores.push({ store, prefix });
	return store;
}

beforeAll(async () => {
	admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
	await admin.connect();
});
afterEach(async () => {
	for (const { store, prefix } of redisStores.splice(0)) {
		const keys = await admin.keys(`${prefix}*`);
		if (keys.length > 0) await admin.del(...keys);
		await store.close();
	}
});
afterAll(() => admin.quit());

/** One sequence of hits, blocks, refunds and clears with the test clock; what each step saw. */
async function sequence(ctx: Ctx & { clock: FixedClock }, ns: string): Promise<unknown[]> {
	const seen: unknown[] = [];
	const k = (name: string) => `${ns}:${name}`;
	for (let i = 0; i < 3; i++) seen.push(await hit(ctx, k('a'), MINUTE));
	ctx.clock.advance(30_000);
	// a is over its max (2): b is not counted.
	seen.push(
		await limitAll(ctx, [
			{ key: k('a'), max: 2, windowMs: MINUTE },
			{ key: k('b'), max: 5, windowMs: MINUTE }
		])
	);
	seen.push(await peek(ctx, k('b')));
	seen.push(
		await limitAll(ctx, [
			{ key: k('b'), max: 5, windowMs: MINUTE },
			{ key: k('c'), max: 1, windowMs: 2 * MINUTE }
		])
	);
	seen.push(
		await limitAll(ctx, [
			{ key: k('c'), max: 1, windowMs: 2 * MINUTE },
			{ key: k('b'), max: 5, windowMs: MINUTE }
		])
	);
	seen.push(await peek(ctx, k('b')), await peek(ctx, k('c')));
	ctx.clock.advance(31_000);
	// a's window is over: a new one starts.
	const a = await hit(ctx, k('a'), MINUTE);
	seen.push(a, await peek(ctx, k('c')));
	await refund(ctx, k('a'), a.resetAt);
	await refund(ctx, k('a'), a.resetAt);
	seen.push(await peek(ctx, k('a')));
	await refund(ctx, k('c'), 0);
	seen.push(await peek(ctx, k('c')));
	await blockUntil(ctx, k('d'), ctx.clock.now().getTime() + 10_000);
	seen.push(await peek(ctx, k('d')));
	ctx.clock.advance(10_000);
	seen.push(await peek(ctx, k('d')));
	await clear(ctx, k('c'));
	seen.push(await peek(ctx, k('c')));
	// IPv6: the /64 and the /48 in one call; the 2nd and 3rd from one /64 are refused by it, the
	// 9th and 10th /64 of one /48 by the /48 (4 × 2).
	for (let i = 0; i < 3; i++)
		seen.push(
			await limitAddress(ctx, k('net'), `2001:db8:6:1::${i + 1}`, { max: 1, windowMs: MINUTE })
		);
	for (let i = 0; i < 10; i++)
		seen.push(
			await limitAddress(ctx, k('net'), `2001:db8:7:${i}::1`, { max: 2, windowMs: MINUTE })
		);
	return seen;
}

describe.each(testDatabases)('R15 rate-limit stores on $name', ({ name, open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	const context = (limits?: RateLimitStore, env: Record<string, string> = {}) => {
		const ctx = testAppContext(database, { env, now: START });
		return limits ? { ...ctx, limits } : ctx;
	};

	it('R15: the in-process, SQL and Redis stores see the same windows on the same sequence of hits', async () => {
		const memory = await sequence(context(memoryRateLimitStore(database.db)), randomUUID());
		const table = await sequence(context(sqlRateLimitStore()), randomUUID());
		const redis = await sequence(context(await redisStore()), randomUUID());
		expect(table).toEqual(memory);
		expect(redis).toEqual(memory);
		// The sequence means something: refusals and a new window are in it.
		expect(memory.filter((s) => (s as { ok?: boolean } | null)?.ok === false)).toHaveLength(6);
	});

	it(`R15: 200 concurrent checks of one identifier meet its limit exactly (${name === 'sqlite' ? 'in the process' : 'in the table'}, and in Redis)`, async () => {
		const env = { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '150' };
		for (const ctx of [context(undefined, env), context(await redisStore(), env)]) {
			const identifier = uniqueEmail('burst');
			const statuses = await Promise.all(
				Array.from({ length: 200 }, async (_, i) => {
					const res = await callEndpoint(POST, ctx, {
						json: { identifier },
						clientAddress: `10.9.${i >> 8}.${i & 255}`
					});
					return res.status;
				})
			);
			expect(statuses.filter((s) => s === 200)).toHaveLength(150);
			expect(statuses.filter((s) => s === 429)).toHaveLength(50);
		}
	});

	it('R15: 200 concurrent checks from one address meet the per-address limit exactly', async () => {
		const env = { CHECK_RATE_LIMIT_PER_IP: '120', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' };
		for (const ctx of [context(undefined, env), context(await redisStore(), env)]) {
			const address = `10.8.${Math.floor(Math.random() * 250)}.${redisStores.length}`;
			const statuses = await Promise.all(
				Array.from({ length: 200 }, async () => {
					const res = await callEndpoint(POST, ctx, {
						json: { identifier: uniqueEmail('many') },
						clientAddress: address
					});
					return res.status;
				})
			);
			expect(statuses.filter((s) => s === 200)).toHaveLength(120);
			expect(statuses.filter((s) => s === 429)).toHaveLength(80);
		}
	});
});

describe('R15 the in-process store of an SQLite deployment', () => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await testDatabases.find((kind) => kind.name === 'sqlite')!.open();
	});
	afterAll(() => database.dispose());

	const env = { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '3' };
	const check = (ctx: ReturnType<typeof testAppContext>, identifier: string) =>
		callEndpoint(POST, ctx, { json: { identifier }, clientAddress: '10.7.0.1' });

	it('R15: a restart keeps the windows: a new process on the same file goes on counting', async () => {
		const identifier = uniqueEmail('restart');
		const first = testAppContext(database, { env, now: START });
		for (let i = 0; i < 3; i++) expect((await check(first, identifier)).status).toBe(200);
		await first.close();
		const second = testAppContext(database, { env, now: '2026-11-26T12:04:00Z' });
		const refused = await check(second, identifier);
		expect(refused.status).toBe(429);
		// The window that opened at 12:00 closes at 12:10: Retry-After counts from the new clock.
		expect(refused.headers.get('retry-after')).toBe('360');
		second.clock.advance(360_000);
		expect((await check(second, identifier)).status).toBe(200);
		await second.close();
	});

	it("R15: checks refused by a full IPv6 /48 open no window for each new /64 in it (a reviewer's find: memory grew per refused /64)", async () => {
		const ctx = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '2', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100' },
			now: START
		});
		const networks = async () => {
			await ctx.limits.flush();
			return (
				await database.db
					.selectFrom('rate_limits')
					.select('key')
					.where('key', 'like', 'check:ip:%')
					.execute()
			).length;
		};
		const before = await networks();
		const statuses: number[] = [];
		for (let n = 1; n <= 20; n++) {
			const response = await callEndpoint(POST, ctx, {
				json: { identifier: uniqueEmail('wide') },
				clientAddress: `2001:db8:77:${n.toString(16)}::1`
			});
			statuses.push(response.status);
		}
		// The /48 takes 4 × 2 = 8 checks; the other 12 /64s are refused there and leave nothing.
		expect(statuses.filter((s) => s === 200)).toHaveLength(8);
		expect(statuses.slice(8).every((s) => s === 429)).toBe(true);
		expect((await networks()) - before).toBe(8);
		await ctx.close();
	});

	it('R15: the windows are written within the batch wait, without a flush', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			const clock = new FixedClock(START);
			const store = memoryRateLimitStore(database.db, { flushMs: 200 });
			const ctx = { ...testAppContext(database), clock, limits: store };
			const key = `batch:${randomUUID()}`;
			await hit(ctx, key, MINUTE);
			await hit(ctx, key, MINUTE);
			const stored = () =>
				database.db
					.selectFrom('rate_limits')
					.select(['points', 'reset_at'])
					.where('key', '=', key)
					.executeTakeFirst();
			expect(await stored()).toBeUndefined();
			await vi.advanceTimersByTimeAsync(200);
			await store.close();
			expect(await stored()).toEqual({
				points: 2,
				reset_at: clock.now().getTime() + MINUTE
			});
		} finally {
			vi.useRealTimers();
		}
	});

	it('R15: a write that fails is counted and its windows are written by the next', async () => {
		const ctx = testAppContext(database, { now: START });
		const key = `fail:${randomUUID()}`;
		await hit(ctx, key, MINUTE);
		const transaction = vi.spyOn(database.db, 'transaction').mockImplementationOnce(() => {
			throw new Error('disk full');
		});
		await ctx.limits.flush();
		transaction.mockRestore();
		expect(
			(await ctx.metrics.writeBehindFailures.get()).values.find(
				(v) => v.labels.table === 'rate_limits'
			)?.value
		).toBe(1);
		await ctx.limits.flush();
		expect(
			await database.db
				.selectFrom('rate_limits')
				.select('points')
				.where('key', '=', key)
				.executeTakeFirst()
		).toEqual({ points: 1 });
	});

	it('R15: a rolled-back transaction takes its hits back, as the table would', async () => {
		const ctx = testAppContext(database, { now: START });
		const key = `rollback:${randomUUID()}`;
		await hit(ctx, key, MINUTE);
		await expect(
			database.db.transaction().execute(async (trx) => {
				const inside = { ...ctx, db: trx };
				await hit(inside, key, MINUTE);
				await limitAll(inside, [{ key, max: 10, windowMs: MINUTE }]);
				expect((await peek(inside, key))?.count).toBe(3);
				throw new Error('roll back');
			})
		).rejects.toThrow('roll back');
		expect((await peek(ctx, key))?.count).toBe(1);
	});
});
