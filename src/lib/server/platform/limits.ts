import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { Ctx } from '../core/context';
import { failures, type Failure } from '../core/failures';
import type { Db } from '../db/database';
import { precompiled } from '../db/precompiled';
import { addressKey, wideAddressKey } from './address-key';

/**
 * Fixed windows that start with their first hit, counted atomically (R15) in one of three stores:
 * in the process on SQLite (`limits-memory.ts`: one instance owns an SQLite file, so nothing is
 * shared), in Redis when REDIS_URL is set (`limits-redis.ts`), in the `rate_limits` table on
 * PostgreSQL without Redis (below). Keys are built by callers from HMACs, never from raw
 * identifiers or addresses (R4).
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
	/**
	 * Hits in order, in one call (one round trip): each hit is counted only while every hit before
	 * it stayed within its `max`, so the windows returned stop after the first one over its max.
	 */
	hitMany(db: Db, hits: readonly Hit[], nowMs: number): Promise<Window[]>;
	peek(db: Db, key: string, nowMs: number): Promise<Window | null>;
	blockUntil(db: Db, key: string, untilMs: number, nowMs: number): Promise<void>;
	/** Takes one hit back from the window that ends at `resetAt` (and only from that one). */
	refund(db: Db, key: string, resetAt: number): Promise<void>;
	clear(db: Db, key: string): Promise<void>;
	/** Stores what a store keeps behind (the in-process one); the others have nothing to store. */
	flush(): Promise<void>;
	close(): Promise<void>;
}

/** One hit of `hitMany`, and the most hits its window takes (R15). */
export interface Hit {
	key: string;
	windowMs: number;
	max: number;
}

/** The window after one hit at `nowMs`: a new one when there is none or it is over (all stores). */
export function nextWindow(window: Window | undefined, windowMs: number, nowMs: number): Window {
	return !window || window.resetAt <= nowMs
		? { count: 1, resetAt: nowMs + windowMs }
		: { count: window.count + 1, resetAt: window.resetAt };
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

/**
 * PostgreSQL: `n` hits in one statement, one upsert each in a chain of CTEs; each hit's upsert
 * selects its row only while the one before it stayed within its max (`hitMany`). Parameters:
 * now, then key, reset, max for each hit but the last (key, reset). Built once per `n`.
 */
const chains = new Map<number, string>();
function hitChain(n: number): string {
	let text = chains.get(n);
	if (text) return text;
	const upserts = Array.from({ length: n }, (_, i) => {
		const [key, reset] = [`$${3 * i + 2}::text`, `$${3 * i + 3}::bigint`];
		const source =
			i === 0
				? `values (${key}, 1, ${reset})`
				: `select ${key}, 1, ${reset} where exists (select 1 from h${i - 1} where points <= $${3 * i + 1}::integer)`;
		return `h${i} as (insert into rate_limits as r (key, points, reset_at) ${source}
			on conflict (key) do update set
				points = case when r.reset_at <= $1::bigint then 1 else r.points + 1 end,
				reset_at = case when r.reset_at <= $1::bigint then excluded.reset_at else r.reset_at end
			returning points, reset_at)`;
	});
	const rows = upserts.map((_, i) => `select ${i} as i, points, reset_at from h${i}`);
	text = `with ${upserts.join(',\n')}\n${rows.join(' union all ')}`;
	chains.set(n, text);
	return text;
}

/** The counters in the `rate_limits` table: one upsert per hit, atomic on SQLite and PostgreSQL. */
export function sqlRateLimitStore(): RateLimitStore {
	const hitOne = async (db: Db, key: string, windowMs: number, now: number) => {
		const row = await hitWindow.first(db, { key, now, resetAt: now + windowMs });
		if (!row) throw new Error('rate limit upsert returned no row');
		return { count: row.points, resetAt: row.reset_at };
	};
	return {
		hit: hitOne,
		async hitMany(db, hits, now) {
			// SQLite is in the process: an upsert each costs no round trip.
			if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
				const windows: Window[] = [];
				for (const { key, windowMs, max } of hits) {
					const window = await hitOne(db, key, windowMs, now);
					windows.push(window);
					if (window.count > max) break;
				}
				return windows;
			}
			// The last hit's max is read by no later hit: it is left out (PostgreSQL counts them).
			const parameters = [now, ...hits.flatMap((h) => [h.key, now + h.windowMs, h.max])];
			parameters.pop();
			const { rows } = await db.executeQuery<{ i: number; points: number; reset_at: number }>(
				CompiledQuery.raw(hitChain(hits.length), parameters)
			);
			return rows
				.toSorted((a, b) => a.i - b.i)
				.map((row) => ({ count: row.points, resetAt: row.reset_at }));
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
		// Every hit is stored when it is counted.
		async flush() {},
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

const refused = (ctx: Limits, resetAt: number) => ({
	ok: false as const,
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

/**
 * Several limits in one call to the store (one round trip): counted in order, each only while
 * every one before it allowed its hit, as consecutive `limit` calls would count them. `refusedBy`
 * is the index of the limit that refused.
 */
export async function limitAll(
	ctx: Limits,
	hits: readonly Hit[]
): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; refusedBy: number }> {
	const windows = await ctx.limits.hitMany(ctx.db, hits, nowMs(ctx));
	const refusedBy = windows.findIndex((window, i) => window.count > hits[i]!.max);
	if (refusedBy < 0) return { ok: true };
	return { ...refused(ctx, windows[refusedBy]!.resetAt), refusedBy };
}

/** How many more hits the /48 around an IPv6 client may take than its /64. */
const WIDE_NETWORK_FACTOR = 4;

/**
 * The hits of a per-address limit: the client's network (IPv4 address or IPv6 /64) gets
 * `rule.max`, and an IPv6 client's /48 gets `WIDE_NETWORK_FACTOR` times as many, so rotating
 * addresses inside one /64, or /64s inside one /48, buys nothing (see `address-key.ts`).
 */
export function addressHits(
	ctx: Pick<Ctx, 'keys'>,
	name: string,
	ip: string,
	rule: { max: number; windowMs: number }
): Hit[] {
	const narrow = { key: `${name}:ip:${addressKey(ctx.keys, ip)}`, ...rule };
	const wide = wideAddressKey(ctx.keys, ip);
	if (wide === null) return [narrow];
	return [
		narrow,
		{ key: `${name}:ip48:${wide}`, max: rule.max * WIDE_NETWORK_FACTOR, windowMs: rule.windowMs }
	];
}

/** A per-address limit (`addressHits`), both networks in one call to the store. */
export async function limitAddress(
	ctx: Limits & Pick<Ctx, 'keys'>,
	name: string,
	ip: string,
	rule: { max: number; windowMs: number }
): Promise<LimitResult> {
	const result = await limitAll(ctx, addressHits(ctx, name, ip, rule));
	return result.ok ? result : { ok: false, retryAfterSeconds: result.retryAfterSeconds };
}

/**
 * A refusal that counts against the client's network (`limitAddress`): `answer` while the network
 * is within `rule`, then `429 rate_limited`. Only refusals are counted, so a right link or code is
 * never refused because strangers on the same network spent the budget (R24's rule: links that
 * stop a recovery or keep an account, status opens).
 */
export async function refusedFromNetwork(
	ctx: Limits & Pick<Ctx, 'keys'>,
	name: string,
	ip: string,
	rule: { max: number; windowMs: number },
	answer: Failure
): Promise<Failure> {
	const byIp = await limitAddress(ctx, name, ip, rule);
	return byIp.ok ? answer : failures.rateLimited(byIp.retryAfterSeconds);
}
