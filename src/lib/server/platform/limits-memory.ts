import { log } from '../core/log';
import type { Db } from '../db/database';
import { onRollback } from '../db/transaction-hooks';
import { nextWindow, type RateLimitStore, type Window } from './limits';

/**
 * docs/rules.md §9: the rate-limit counters of an SQLite deployment, counted in this process
 * (R15). Only one instance uses an SQLite file (`platform/instance-claim.ts` refuses a second), so
 * no other process has a counter to share: a Map counts each hit exactly, with no lock (the event
 * loop runs one count at a time) and no disk commit on the request's path.
 *
 * Written behind: the keys a hit, block, refund or clear changed are stored in the `rate_limits`
 * table in one transaction at most `flushMs` after the change, and when the context closes; the
 * table is loaded when the store opens, so a restart keeps the windows (a crash loses at most the
 * changes of the last `flushMs`). A write that fails keeps its keys for the next one, and is
 * counted (`onFlushFailed`).
 *
 * Transactions mean what they mean in the other stores: when `db` is a transaction, each change
 * registers its inverse (`db/transaction-hooks.ts`), so a rollback takes back what it counted.
 */
export interface MemoryStoreOptions {
	/** How long a change waits before it is written (the batch of every change in that time). */
	flushMs?: number;
	/** Called with each write that failed; its keys are written with the next. */
	onFlushFailed?: (error: unknown) => void;
}

/** SQLite binds at most 32,766 values a statement; 3 per row. */
const MAX_ROWS = 1_000;

const DEFAULT_FLUSH_MS = 200;

export function memoryRateLimitStore(
	database: Db,
	{ flushMs = DEFAULT_FLUSH_MS, onFlushFailed = () => {} }: MemoryStoreOptions = {}
): RateLimitStore {
	const windows = new Map<string, Window>();
	const changed = new Set<string>();
	let loaded = false;
	let latest = 0;
	let swept = 0;
	/** Writes failed in a row: the next waits longer (up to 30 s), so an outage is not hammered. */
	let failedInARow = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	let writing: Promise<void> = Promise.resolve();
	let loading: Promise<void> | undefined;
	/**
	 * The stored windows, read on first use through the caller's connection (a transaction holds
	 * SQLite's only one); a failed read is tried again by the next use.
	 */
	const ready = (db: Db): Promise<void> =>
		(loading ??= db
			.selectFrom('rate_limits')
			.select(['key', 'points', 'reset_at'])
			.execute()
			.then(
				(rows) => {
					if (loaded) return;
					for (const row of rows)
						windows.set(row.key, { count: row.points, resetAt: row.reset_at });
					loaded = true;
				},
				(error: unknown) => {
					loading = undefined;
					throw error;
				}
			));

	function set(key: string, window: Window | undefined, nowMs?: number): void {
		if (window) windows.set(key, window);
		else windows.delete(key);
		if (nowMs !== undefined && nowMs > latest) latest = nowMs;
		changed.add(key);
		if (!timer) schedule(flushMs);
	}

	function schedule(ms: number): void {
		timer = setTimeout(() => void flush(), ms);
		timer.unref?.();
	}

	/** In a transaction: `key` goes back to `before` if it rolls back. */
	async function undoable(db: Db, key: string, before: Window | undefined): Promise<void> {
		if (db.isTransaction) await onRollback(db, async () => set(key, before && { ...before }));
	}

	const count = (key: string, windowMs: number, nowMs: number): Window => {
		const window = nextWindow(windows.get(key), windowMs, nowMs);
		set(key, window, nowMs);
		return { ...window };
	};

	/** Takes one hit back from the window ending at `resetAt` (and only that one). */
	const takeBack = (key: string, resetAt: number): boolean => {
		const window = windows.get(key);
		if (!window || window.resetAt !== resetAt || window.count <= 0) return false;
		set(key, { count: window.count - 1, resetAt });
		return true;
	};

	async function write(): Promise<void> {
		timer = undefined;
		// Windows that are over read as absent; once a minute (app clock) they leave the Map too
		// (their rows stay, as the table store's do, for retention to remove).
		if (latest - swept >= 60_000) {
			for (const [key, window] of windows)
				if (window.resetAt <= latest && !changed.has(key)) windows.delete(key);
			swept = latest;
		}
		if (changed.size === 0) return;
		const keys = [...changed];
		changed.clear();
		try {
			await database.transaction().execute(async (trx) => {
				for (let i = 0; i < keys.length; i += MAX_ROWS) {
					const part = keys.slice(i, i + MAX_ROWS);
					const rows = part.flatMap((key) => {
						const window = windows.get(key);
						return window ? [{ key, points: window.count, reset_at: window.resetAt }] : [];
					});
					const gone = part.filter((key) => !windows.has(key));
					if (rows.length > 0)
						await trx
							.insertInto('rate_limits')
							.values(rows)
							.onConflict((oc) =>
								oc.column('key').doUpdateSet((eb) => ({
									points: eb.ref('excluded.points'),
									reset_at: eb.ref('excluded.reset_at')
								}))
							)
							.execute();
					if (gone.length > 0)
						await trx.deleteFrom('rate_limits').where('key', 'in', gone).execute();
				}
			});
		} catch (error) {
			// Retried with the next write: the keys go back (their values are read then).
			for (const key of keys) changed.add(key);
			onFlushFailed(error);
			log.error({
				event: 'rate_limit.write_failed',
				message: error instanceof Error ? error.message : String(error)
			});
			failedInARow += 1;
			if (!timer) schedule(Math.min(30_000, flushMs * 2 ** failedInARow));
			return;
		}
		failedInARow = 0;
	}

	/** One write at a time, in order: a flush waits for the one in progress, then writes. */
	function flush(): Promise<void> {
		if (timer) clearTimeout(timer);
		// Every change waits for the stored windows: none read, none changed, nothing to write.
		if (!loaded) return writing;
		writing = writing.then(write);
		return writing;
	}

	const live = (key: string, nowMs: number) => {
		const window = windows.get(key);
		return window && window.resetAt > nowMs ? window : undefined;
	};

	return {
		async hit(db, key, windowMs, nowMs) {
			if (!loaded) await ready(db);
			const window = count(key, windowMs, nowMs);
			if (db.isTransaction) await onRollback(db, async () => void takeBack(key, window.resetAt));
			return window;
		},
		async hitMany(db, hits, nowMs) {
			if (!loaded) await ready(db);
			// A request a later window has already used up is refused there whatever the earlier
			// ones say: it opens no new earlier window (a reviewer's find — spread over every /64 of a
			// full /48, each refused check would otherwise leave a window in memory until it ends).
			const full = hits.findIndex(
				({ key, max }, i) => i > 0 && (live(key, nowMs)?.count ?? 0) >= max
			);
			if (full > 0 && hits.slice(0, full).some(({ key }) => !live(key, nowMs))) {
				const window = count(hits[full]!.key, hits[full]!.windowMs, nowMs);
				if (db.isTransaction)
					await onRollback(db, async () => void takeBack(hits[full]!.key, window.resetAt));
				// The windows before it are reported as not counted (none is over its limit).
				return [...hits.slice(0, full).map(() => ({ count: 0, resetAt: window.resetAt })), window];
			}
			const counted: Window[] = [];
			for (const { key, windowMs, max } of hits) {
				const window = count(key, windowMs, nowMs);
				counted.push(window);
				if (window.count > max) break;
			}
			if (db.isTransaction)
				await onRollback(db, async () => {
					for (const [i, window] of counted.entries()) takeBack(hits[i]!.key, window.resetAt);
				});
			return counted;
		},
		async peek(db, key, nowMs) {
			if (!loaded) await ready(db);
			const window = windows.get(key);
			return window && window.resetAt > nowMs ? { ...window } : null;
		},
		async blockUntil(db, key, untilMs, nowMs) {
			if (!loaded) await ready(db);
			const before = windows.get(key);
			set(key, { count: 1, resetAt: untilMs }, nowMs);
			await undoable(db, key, before);
		},
		async refund(db, key, resetAt) {
			if (!loaded) await ready(db);
			// Rolled back: the hit it took goes back into that window (a refund that took none, none).
			if (takeBack(key, resetAt) && db.isTransaction)
				await onRollback(db, async () => {
					const window = windows.get(key);
					if (window?.resetAt === resetAt) set(key, { count: window.count + 1, resetAt });
				});
		},
		async clear(db, key) {
			if (!loaded) await ready(db);
			const before = windows.get(key);
			set(key, undefined);
			await undoable(db, key, before);
		},
		flush,
		async close() {
			await flush();
			if (timer) clearTimeout(timer);
			timer = undefined;
		}
	};
}
