import type { Ctx } from '../core/context';
import type { Db } from '../db/database';
import { precompiled } from '../db/precompiled';
import { addressKey, wideAddressKey } from './address-key';

/**
 * Fixed windows that start with their first hit, counted atomically in a store every instance
 * shares (R15): the database by default, Redis when REDIS_URL is set (`limits-redis.ts`).
 * Keys are built by callers from HMACs, never from raw identifiers or addresses (R4).
 *
 * Why not rate-limiter-flexible: its stores read the wall clock (Redis windows are Redis TTLs), so
 * the app's clock cannot move them, and the rules need that clock: windows and growing delays the
 * tests and the APP_TEST_HOOKS clock move, refunds into the window a hit was counted in, exact
 * Retry-After. `tests/server/limits-library.test.ts` shows what it does instead.
 */
export interface Window {
	count: number;
	resetAt: number;
}

/**
 * Where the counters live. Every time is passed in (the app clock's); stores read no clock. `db`
 * is the caller's connection or transaction, and a counter means the same in every store: what
 * committed work counted. The database store counts inside it (SQLite has one connection, which a
 * transaction holds), so a rollback takes its hits back; Redis counts at once and, when `db` is a
 * transaction, takes its change back if that rolls back (`db/transaction-hooks.ts`).
 */
export interface RateLimitStore {
	hit(db: Db, key: string, windowMs: number, nowMs: number): Promise<Window>;
	peek(db: Db, key: string, nowMs: number): Promise<Window | null>;
	blockUntil(db: Db, key: string, untilMs: number, nowMs: number): Promise<void>;
	/** Takes one hit back from the window that ends at `resetAt` (and only from that one). */
	refund(db: Db, key: string, resetAt: number): Promise<void>;
	clear(db: Db, key: string): Promise<void>;
	close(): Promise<void>;
}

/** One hit: a new window, or one more point in the current one; the window after it. */
const hitWindow = precompiled((db, p: { key: string; now: number; resetAt: number }) =>
	db
		.insertInto('rate_limits')
		.values({ key: p.key, points: 1, reset_at: p.resetAt })
		.onConflict((oc) =>
			oc.column('key').doUpdateSet((eb) => ({
				points: eb
					.case()
					.when('rate_limits.reset_at', '<=', p.now)
					.then(1)
					.else(eb('rate_limits.points', '+', 1))
					.end(),
				reset_at: eb
					.case()
					.when('rate_limits.reset_at', '<=', p.now)
					.then(p.resetAt)
					.else(eb.ref('rate_limits.reset_at'))
					.end()
			}))
		)
		.returning(['points', 'reset_at'])
);

/** The counters in the `rate_limits` table: one upsert per hit, atomic on SQLite and PostgreSQL. */
export function sqlRateLimitStore(): RateLimitStore {
	return {
		async hit(db, key, windowMs, now) {
			const row = await hitWindow.first(db, { key, now, resetAt: now + windowMs });
			if (!row) throw new Error('rate limit upsert returned no row');
			return { count: row.points, resetAt: row.reset_at };
		},
		async peek(db, key, now) {
			const row = await db
				.selectFrom('rate_limits')
				.select(['points', 'reset_at'])
				.where('key', '=', key)
				.executeTakeFirst();
			if (!row || row.reset_at <= now) return null;
			return { count: row.points, resetAt: row.reset_at };
		},
		async blockUntil(db, key, until) {
			await db
				.insertInto('rate_limits')
				.values({ key, points: 1, reset_at: until })
				.onConflict((oc) => oc.column('key').doUpdateSet({ points: 1, reset_at: until }))
				.execute();
		},
		// A window that has since ended or been cleared is left alone; a count never goes below zero.
		async refund(db, key, resetAt) {
			await db
				.updateTable('rate_limits')
				.set((eb) => ({ points: eb('points', '-', 1) }))
				.where('key', '=', key)
				.where('reset_at', '=', resetAt)
				.where('points', '>', 0)
				.execute();
		},
		async clear(db, key) {
			await db.deleteFrom('rate_limits').where('key', '=', key).execute();
		},
		// The connection belongs to the context, which closes it.
		async close() {}
	};
}

type Limits = Pick<Ctx, 'limits' | 'clock' | 'db'>;
const nowMs = (ctx: Limits) => ctx.clock.now().getTime();

/** Counts one hit against `key` and returns the window after it. */
export function hit(ctx: Limits, key: string, windowMs: number): Promise<Window> {
	return ctx.limits.hit(ctx.db, key, windowMs, nowMs(ctx));
}

export function peek(ctx: Limits, key: string): Promise<Window | null> {
	return ctx.limits.peek(ctx.db, key, nowMs(ctx));
}

/** Holds `key` shut until `until` (growing sign-in delays, password pauses). */
export function blockUntil(ctx: Limits, key: string, until: number): Promise<void> {
	return ctx.limits.blockUntil(ctx.db, key, until, nowMs(ctx));
}

/**
 * Takes back one hit counted in the window that ends at `resetAt`: an attempt counted before its
 * work (sign-in) that turned out not to be a failure.
 */
export function refund(ctx: Limits, key: string, resetAt: number): Promise<void> {
	return ctx.limits.refund(ctx.db, key, resetAt);
}

export function clear(ctx: Limits, key: string): Promise<void> {
	return ctx.limits.clear(ctx.db, key);
}

export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

const refused = (ctx: Limits, resetAt: number): LimitResult => ({
	ok: false,
	retryAfterSeconds: Math.max(1, Math.ceil((resetAt - nowMs(ctx)) / 1000))
});

/** One hit; refused once more than `max` hits fall in the window. */
export async function limit(
	ctx: Limits,
	key: string,
	rule: { max: number; windowMs: number }
): Promise<LimitResult> {
	const window = await hit(ctx, key, rule.windowMs);
	return window.count <= rule.max ? { ok: true } : refused(ctx, window.resetAt);
}

/** Refused while a block set by `blockUntil` (or a window at `max` or more) is in force. */
export async function whileBlocked(ctx: Limits, key: string, max = 1): Promise<LimitResult> {
	const window = await peek(ctx, key);
	return window && window.count >= max ? refused(ctx, window.resetAt) : { ok: true };
}

/** How many more hits the /48 around an IPv6 client may take than its /64. */
const WIDE_NETWORK_FACTOR = 4;

/**
 * A per-address limit: the client's network (IPv4 address or IPv6 /64) gets `rule.max`, and an
 * IPv6 client's /48 gets `WIDE_NETWORK_FACTOR` times as many, so rotating addresses inside one
 * /64, or /64s inside one /48, buys nothing (see `address-key.ts`).
 */
export async function limitAddress(
	ctx: Limits & Pick<Ctx, 'keys'>,
	name: string,
	ip: string,
	rule: { max: number; windowMs: number }
): Promise<LimitResult> {
	const narrow = await limit(ctx, `${name}:ip:${addressKey(ctx.keys, ip)}`, rule);
	if (!narrow.ok) return narrow;
	const wide = wideAddressKey(ctx.keys, ip);
	if (wide === null) return narrow;
	return limit(ctx, `${name}:ip48:${wide}`, {
		max: rule.max * WIDE_NETWORK_FACTOR,
		windowMs: rule.windowMs
	});
}
