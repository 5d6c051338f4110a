import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { POST as startChange } from '../../src/routes/api/v1/account/contact-changes/+server';
import { POST as confirmChange } from '../../src/routes/api/v1/account/contact-changes/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { FixedClock, type Clock } from '../../src/lib/server/core/clock';
import { parseConfig } from '../../src/lib/server/core/config';
import type { Ctx } from '../../src/lib/server/core/context';
import {
	blockUntil,
	clear,
	hit,
	limit,
	peek,
	refund,
	sqlRateLimitStore,
	type RateLimitStore
} from '../../src/lib/server/platform/limits';
import {
	openRedisRateLimitStore,
	REDIS_KEY_PREFIX
} from '../../src/lib/server/platform/limits-redis';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { latestCode } from '../support/codes';
import { testRedisUrl } from '../support/redis';

/** Deployment (docs/rules.md §9): the Redis store, against the test command's Redis (TEST_REDIS_URL). */
const REDIS_URL = testRedisUrl();
const MINUTE = 60_000;

let database: TestDatabase;
let admin: Redis;
const opened: { store: RateLimitStore; prefix: string }[] = [];

/** A store of its own for each test: a unique prefix under asc:rl:, and a context using it with times from `clock`. */
async function openStore(
	clock: Clock
): Promise<{ store: RateLimitStore; prefix: string; ctx: Ctx }> {
	const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
	const store = await openRedisRateLimitStore(REDIS_URL, { prefix });
	opened.push({ store, prefix });
	return { store, prefix, ctx: { ...testAppContext(database), clock, limits: store } };
}

beforeAll(async () => {
	admin = new Redis(REDIS_URL, {
		lazyConnect: true,
		maxRetriesPerRequest: 0,
		enableOfflineQueue: false,
		retryStrategy: () => null
	});
	admin.on('error', () => {});
	try {
		await admin.connect();
	} catch (error) {
		throw new Error(
			`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}). These tests need it: ` +
				'`npm test` starts one of its own unless TEST_REDIS_URL names one (scripts/test-services.ts).',
			{ cause: error }
		);
	}
	const sqlite = testDatabases.find((kind) => kind.name === 'sqlite');
	if (!sqlite) throw new Error('no SQLite test database');
	database = await sqlite.open();
});

afterEach(async () => {
	for (const { store, prefix } of opened.splice(0)) {
		const keys = await admin.keys(`${prefix}*`);
		if (keys.length > 0) await admin.del(...keys);
		await store.close();
	}
});

afterAll(async () => {
	admin?.disconnect();
	await database?.dispose();
});

describe('rate limits in Redis (REDIS_URL)', () => {
	it('counts hits in one window, which keeps its reset time; the key expires by itself', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { prefix, ctx } = await openStore(clock);
		const t0 = clock.now().getTime();
		expect(await hit(ctx, 'a', MINUTE)).toEqual({ count: 1, resetAt: t0 + MINUTE });
		clock.advance(10_000);
		expect(await hit(ctx, 'a', MINUTE)).toEqual({ count: 2, resetAt: t0 + MINUTE });
		expect(await hit(ctx, 'b', MINUTE)).toEqual({ count: 1, resetAt: t0 + 10_000 + MINUTE });
		expect(await peek(ctx, 'a')).toEqual({ count: 2, resetAt: t0 + MINUTE });
		const ttl = await admin.pttl(`${prefix}a`);
		expect(ttl).toBeGreaterThan(MINUTE - 5_000);
		expect(ttl).toBeLessThanOrEqual(MINUTE);
	});

	it('a refund takes one hit back from its own window only, never below zero', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { ctx } = await openStore(clock);
		const first = await hit(ctx, 'r', MINUTE);
		await hit(ctx, 'r', MINUTE);
		await refund(ctx, 'r', first.resetAt);
		expect(await peek(ctx, 'r')).toEqual({ count: 1, resetAt: first.resetAt });
		await refund(ctx, 'r', first.resetAt);
		await refund(ctx, 'r', first.resetAt);
		expect((await peek(ctx, 'r'))?.count).toBe(0);
		clock.advance(MINUTE);
		const next = await hit(ctx, 'r', MINUTE);
		await refund(ctx, 'r', first.resetAt);
		expect(await peek(ctx, 'r')).toEqual({ count: 1, resetAt: next.resetAt });
	});

	it('opens a new window once the reset time is reached (clock moved, not waited)', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { ctx } = await openStore(clock);
		const t0 = clock.now().getTime();
		await hit(ctx, 'k', MINUTE);
		await hit(ctx, 'k', MINUTE);
		clock.advance(MINUTE - 1);
		expect(await hit(ctx, 'k', MINUTE)).toEqual({ count: 3, resetAt: t0 + MINUTE });
		clock.advance(1);
		expect(await peek(ctx, 'k')).toBeNull();
		expect(await hit(ctx, 'k', MINUTE)).toEqual({ count: 1, resetAt: t0 + 2 * MINUTE });
	});

	it('limit refuses past max with the seconds left in the window', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { ctx } = await openStore(clock);
		const rule = { max: 2, windowMs: MINUTE };
		expect(await limit(ctx, 'l', rule)).toEqual({ ok: true });
		expect(await limit(ctx, 'l', rule)).toEqual({ ok: true });
		expect(await limit(ctx, 'l', rule)).toEqual({ ok: false, retryAfterSeconds: 60 });
		clock.advance(15_500);
		expect(await limit(ctx, 'l', rule)).toEqual({ ok: false, retryAfterSeconds: 45 });
		clock.advance(44_500);
		expect(await limit(ctx, 'l', rule)).toEqual({ ok: true });
	});

	it('blockUntil holds a key shut until then; peek sees it; clear lifts it', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { prefix, ctx } = await openStore(clock);
		const t0 = clock.now().getTime();
		expect(await peek(ctx, 'b')).toBeNull();
		await blockUntil(ctx, 'b', t0 + 30_000);
		expect(await peek(ctx, 'b')).toEqual({ count: 1, resetAt: t0 + 30_000 });
		expect(await admin.pttl(`${prefix}b`)).toBeGreaterThan(0);
		expect(await hit(ctx, 'b', MINUTE)).toEqual({ count: 2, resetAt: t0 + 30_000 });
		await clear(ctx, 'b');
		expect(await peek(ctx, 'b')).toBeNull();
		expect(await admin.exists(`${prefix}b`)).toBe(0);

		await blockUntil(ctx, 'b', t0 + 30_000);
		clock.advance(30_000);
		expect(await peek(ctx, 'b')).toBeNull();
		await blockUntil(ctx, 'c', t0);
		expect(await peek(ctx, 'c')).toBeNull();
	});

	it('50 parallel hits count exactly 50', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const { ctx } = await openStore(clock);
		const windows = await Promise.all(Array.from({ length: 50 }, () => hit(ctx, 'p', MINUTE)));
		expect(windows.map((w) => w.count).sort((a, b) => a - b)).toEqual(
			Array.from({ length: 50 }, (_, i) => i + 1)
		);
		expect(await peek(ctx, 'p')).toMatchObject({ count: 50 });
	});

	it('POST /api/v1/check: the 3rd check of one identifier is 429, and the rate_limits table stays empty', async () => {
		const app = testAppContext(database, { env: { CHECK_RATE_LIMIT_PER_IDENTIFIER: '2' } });
		app.limits = (await openStore(app.clock)).store;
		const email = uniqueEmail();
		const check = (ip: string) =>
			callEndpoint(POST, app, { json: { identifier: email }, clientAddress: ip });
		expect((await check('8.8.8.1')).status).toBe(200);
		expect((await check('8.8.8.2')).status).toBe(200);
		const refused = await check('8.8.8.3');
		expect(refused.status).toBe(429);
		expect(refused.headers.get('retry-after')).toBe('600');
		expect(await database.db.selectFrom('rate_limits').selectAll().execute()).toEqual([]);
	});

	it('without a configured store, SQLite counts in the process and writes the counters behind to the database', async () => {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const ctx = { ...testAppContext(database), clock };
		await hit(ctx, 'sql-only', MINUTE);
		await ctx.limits.flush();
		const row = await database.db
			.selectFrom('rate_limits')
			.select('points')
			.where('key', '=', 'sql-only')
			.executeTakeFirst();
		expect(row).toEqual({ points: 1 });
	});

	it('an unreachable Redis fails at start-up with a message naming REDIS_URL, not the password', async () => {
		await expect(openRedisRateLimitStore('redis://:s3cret@127.0.0.1:1')).rejects.toThrow(
			/^REDIS_URL: cannot reach Redis/
		);
		await expect(openRedisRateLimitStore('redis://:s3cret@127.0.0.1:1')).rejects.not.toThrow(
			/s3cret/
		);
	});

	it('REDIS_URL must be redis:// or rediss://; unset keeps it undefined', () => {
		expect(parseConfig({}).redisUrl).toBeUndefined();
		expect(parseConfig({ REDIS_URL: 'rediss://u:p@cache:6380/1' }).redisUrl).toBe(
			'rediss://u:p@cache:6380/1'
		);
		expect(() => parseConfig({ REDIS_URL: 'http://cache:6379' })).toThrow(/REDIS_URL/);
	});
});

describe.each(testDatabases)('Redis counters and rolled-back transactions on $name', ({ open }) => {
	let db: TestDatabase;
	beforeAll(async () => {
		db = await open();
	});
	afterAll(() => db.dispose());

	/** What a store holds after work counted outside, in a rolled-back and in a committed transaction. */
	async function scenario(store: RateLimitStore) {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const ctx: Ctx = { ...testAppContext(db), clock, limits: store };
		const [h, r, b, c] = ['h', 'r', 'b', 'c'].map((name) => `${name}:${randomUUID()}`) as [
			string,
			string,
			string,
			string
		];
		const t0 = clock.now().getTime();
		const first = await hit(ctx, h, MINUTE);
		await hit(ctx, r, MINUTE);
		await blockUntil(ctx, c, t0 + 30_000);
		await expect(
			ctx.db.transaction().execute(async (trx) => {
				const inside = { ...ctx, db: trx };
				await hit(inside, h, MINUTE);
				await hit(inside, h, MINUTE);
				// Counted in the transaction, seen by it before the rollback.
				expect(await peek(inside, h)).toEqual({ count: 3, resetAt: first.resetAt });
				await refund(inside, r, first.resetAt);
				await blockUntil(inside, b, t0 + 30_000);
				await clear(inside, c);
				throw new Error('rolled back');
			})
		).rejects.toThrow('rolled back');
		const afterRollback = await Promise.all([h, r, b, c].map((key) => peek(ctx, key)));
		await ctx.db.transaction().execute((trx) => hit({ ...ctx, db: trx }, h, MINUTE));
		return { afterRollback, afterCommit: await peek(ctx, h), t0 };
	}

	it('a hit, refund, block or clear inside a rolled-back transaction is taken back in Redis, as in the database', async () => {
		const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
		const redis = await openRedisRateLimitStore(REDIS_URL, { prefix });
		opened.push({ store: redis, prefix });
		const inRedis = await scenario(redis);
		const inSql = await scenario(sqlRateLimitStore());
		const { t0 } = inRedis;
		expect(inRedis.afterRollback).toEqual([
			{ count: 1, resetAt: t0 + MINUTE },
			{ count: 1, resetAt: t0 + MINUTE },
			null,
			{ count: 1, resetAt: t0 + 30_000 }
		]);
		expect(inRedis.afterCommit).toEqual({ count: 2, resetAt: t0 + MINUTE });
		expect(inSql).toEqual(inRedis);
	});

	it("R6/R16 with Redis: a contact-change confirm rolled back for a taken contact does not spend the identifier's code tries", async () => {
		const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
		const app = testAppContext(db);
		app.limits = await openRedisRateLimitStore(REDIS_URL, { prefix });
		opened.push({ store: app.limits, prefix });
		const password = 'a long and quiet river';
		const email = uniqueEmail('owner');
		await insertAccount(db.db, {
			email,
			password_hash: await hashPassword(password),
			created_at: app.clock.now().getTime()
		});
		const jar: CookieJar = new Map();
		expect(
			(await callEndpoint(signIn, app, { json: { identifier: email, password }, jar })).status
		).toBe(201);
		const taken = (await insertAccount(db.db)).email!;
		expect(
			(
				await callEndpoint(startChange, app, {
					json: { currentPassword: password, newIdentifier: taken },
					jar
				})
			).status
		).toBe(202);
		const code = await latestCode(db.db, taken);
		// Each confirm counts a try against the code's identifier (10 an hour), then rolls back.
		const answers: string[] = [];
		for (let i = 0; i < 12; i++)
			answers.push(
				(await (await callEndpoint(confirmChange, app, { json: { code }, jar })).json()).error.code
			);
		expect(answers).toEqual(Array(12).fill('identifier_taken'));
	});
});
