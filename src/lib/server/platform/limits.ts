import type { Clock } from '../core/clock';
import { addressKey, wideAddressKey } from './address-key';
import type { Db } from '../db/database';
import type { Keyring } from '../core/keys';

/**
 * Fixed-window counters in the shared database, so every instance sees the same limits (R15), or
 * in Redis when REDIS_URL is set (docs/rules.md §9; `limits-redis.ts`).
 * Keys are built by callers from HMACs, never from raw identifiers or addresses (R4).
 */
export interface Window {
	count: number;
	resetAt: number;
}

/** Another place for the counters, with the SQL semantics below. Times are the app clock's. */
export interface RateLimitStore {
	hit(key: string, windowMs: number, nowMs: number): Promise<Window>;
	peek(key: string, nowMs: number): Promise<Window | null>;
	blockUntil(key: string, untilMs: number): Promise<void>;
	/** Takes one hit back from the window that ends at `resetAt` (and only from that one). */
	refund(key: string, resetAt: number): Promise<void>;
	clear(key: string): Promise<void>;
	close(): Promise<void>;
}

let store: RateLimitStore | null = null;

/** Process-wide: `null` (the default) keeps the counters in the database. */
export function configureRateLimitStore(next: RateLimitStore | null): void {
	store = next;
}

/** At shutdown; the database store has nothing of its own to close. */
export async function closeRateLimitStore(): Promise<void> {
	await store?.close();
}

/** Counts one hit against `key` and returns the window after it. Atomic on SQLite and PostgreSQL. */
export async function hit(db: Db, clock: Clock, key: string, windowMs: number): Promise<Window> {
	const now = clock.now().getTime();
	if (store) return store.hit(key, windowMs, now);
	const row = await db
		.insertInto('rate_limits')
		.values({ key, points: 1, reset_at: now + windowMs })
		.onConflict((oc) =>
			oc.column('key').doUpdateSet((eb) => ({
				points: eb.case().when('rate_limits.reset_at', '<=', now).then(1).else(eb('rate_limits.points', '+', 1)).end(),
				reset_at: eb
					.case()
					.when('rate_limits.reset_at', '<=', now)
					.then(now + windowMs)
					.else(eb.ref('rate_limits.reset_at'))
					.end()
			}))
		)
		.returning(['points', 'reset_at'])
		.executeTakeFirstOrThrow();
	return { count: row.points, resetAt: row.reset_at };
}

export async function peek(db: Db, clock: Clock, key: string): Promise<Window | null> {
	if (store) return store.peek(key, clock.now().getTime());
	const row = await db.selectFrom('rate_limits').select(['points', 'reset_at']).where('key', '=', key).executeTakeFirst();
	if (!row || row.reset_at <= clock.now().getTime()) return null;
	return { count: row.points, resetAt: row.reset_at };
}

/** Holds `key` shut until `until` (growing sign-in delays). */
export async function blockUntil(db: Db, key: string, until: number): Promise<void> {
	if (store) return store.blockUntil(key, until);
	await db
		.insertInto('rate_limits')
		.values({ key, points: 1, reset_at: until })
		.onConflict((oc) => oc.column('key').doUpdateSet({ points: 1, reset_at: until }))
		.execute();
}

/**
 * Takes back one hit counted in the window that ends at `resetAt`: an attempt counted before its
 * work (sign-in) that turned out not to be a failure. A window that has since ended or been
 * cleared is left alone, and a count never goes below zero.
 */
export async function refund(db: Db, key: string, resetAt: number): Promise<void> {
	if (store) return store.refund(key, resetAt);
	await db
		.updateTable('rate_limits')
		.set((eb) => ({ points: eb('points', '-', 1) }))
		.where('key', '=', key)
		.where('reset_at', '=', resetAt)
		.where('points', '>', 0)
		.execute();
}

export async function clear(db: Db, key: string): Promise<void> {
	if (store) return store.clear(key);
	await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/** One hit; refused once more than `max` hits fall in the window. */
export async function limit(
	db: Db,
	clock: Clock,
	key: string,
	rule: { max: number; windowMs: number }
): Promise<LimitResult> {
	const window = await hit(db, clock, key, rule.windowMs);
	if (window.count <= rule.max) return { ok: true };
	return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - clock.now().getTime()) / 1000)) };
}

/** How many more hits the /48 around an IPv6 client may take than its /64. */
export const WIDE_NETWORK_FACTOR = 4;

/**
 * A per-address limit: the client's network (IPv4 address or IPv6 /64) gets `rule.max`, and an
 * IPv6 client's /48 gets `WIDE_NETWORK_FACTOR` times as many, so rotating addresses inside one
 * /64, or /64s inside one /48, buys nothing (see `address-key.ts`).
 */
export async function limitAddress(
	db: Db,
	clock: Clock,
	keys: Keyring,
	name: string,
	ip: string,
	rule: { max: number; windowMs: number }
): Promise<LimitResult> {
	const narrow = await limit(db, clock, `${name}:ip:${addressKey(keys, ip)}`, rule);
	if (!narrow.ok) return narrow;
	const wide = wideAddressKey(keys, ip);
	if (wide === null) return narrow;
	return limit(db, clock, `${name}:ip48:${wide}`, { max: rule.max * WIDE_NETWORK_FACTOR, windowMs: rule.windowMs });
}
