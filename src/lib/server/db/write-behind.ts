import { log } from '../core/log';
import type { Db } from './database';

/**
 * Rows a request records but need not wait for (R15: a check's row in `check_events`), kept in
 * this process and written in batches: one multi-row insert at most `waitMs` after a batch's first
 * row, or as soon as it holds `maxRows`, so no request waits on a disk commit of its own. A crash
 * loses at most the rows of the last `waitMs`; closing the context writes them (`flush`).
 *
 * A batch that fails to write stays queued and is tried again (`onFailed` counts each failure),
 * after a wait that doubles with each failure in a row up to 30 s, or at the next flush; past
 * `maxQueued` rows the oldest are given up, said in the log. Readers that must
 * see this process's rows (metrics, an agent's check history) call `flush` first.
 */
export interface WriteBehind {
	/** Queues `row` for `table`'s writer (the first call for a table names its writer). */
	add<T>(table: string, write: (db: Db, rows: T[]) => Promise<unknown>, row: T): void;
	/** Writes every queued row now; resolves once they are stored (or their write failed). */
	flush(): Promise<void>;
}

export interface WriteBehindOptions {
	waitMs?: number;
	/** SQLite binds at most 32,766 values a statement. */
	maxRows?: number;
	maxQueued?: number;
	onFailed?: (table: string, error: unknown) => void;
}

/** How long a batch waits for more rows before it is written. */
export const WRITE_BEHIND_WAIT_MS = 200;

interface Queue {
	rows: unknown[];
	write: (db: Db, rows: unknown[]) => Promise<unknown>;
	/** The write in progress, which the next waits for (one at a time, in order). */
	writing: Promise<void>;
	/** Writes failed in a row: the next waits longer (up to 30 s), so an outage is not hammered. */
	failed: number;
	timer: ReturnType<typeof setTimeout> | undefined;
}

export function createWriteBehind(
	db: Db,
	{
		waitMs = WRITE_BEHIND_WAIT_MS,
		maxRows = 1_000,
		maxQueued = 100_000,
		onFailed = () => {}
	}: WriteBehindOptions = {}
): WriteBehind {
	const queues = new Map<string, Queue>();

	function writeOne(table: string, queue: Queue): Promise<void> {
		if (queue.timer) clearTimeout(queue.timer);
		queue.timer = undefined;
		queue.writing = queue.writing.then(async () => {
			while (queue.rows.length > 0) {
				const batch = queue.rows.slice(0, maxRows);
				try {
					await queue.write(db, batch);
					queue.rows.splice(0, batch.length);
					queue.failed = 0;
				} catch (error) {
					queue.failed += 1;
					onFailed(table, error);
					log.error({
						event: 'write_behind.failed',
						table,
						rows: batch.length,
						message: error instanceof Error ? error.message : String(error)
					});
					const over = queue.rows.length - maxQueued;
					if (over > 0) {
						queue.rows.splice(0, over);
						log.error({ event: 'write_behind.dropped', table, rows: over });
					}
					// Tried again after a longer wait (or at the next flush).
					schedule(table, queue, Math.min(30_000, waitMs * 2 ** queue.failed));
					return;
				}
			}
		});
		return queue.writing;
	}

	function schedule(table: string, queue: Queue, ms = waitMs): void {
		if (queue.timer) return;
		queue.timer = setTimeout(() => void writeOne(table, queue), ms);
		queue.timer.unref?.();
	}

	return {
		add(table, write, row) {
			let queue = queues.get(table);
			if (!queue) {
				queue = {
					rows: [],
					write: write as Queue['write'],
					writing: Promise.resolve(),
					failed: 0,
					timer: undefined
				};
				queues.set(table, queue);
			}
			queue.rows.push(row);
			if (queue.rows.length >= maxRows) void writeOne(table, queue);
			else schedule(table, queue);
		},
		async flush() {
			await Promise.all([...queues].map(([table, queue]) => writeOne(table, queue)));
		}
	};
}
