import type { Db } from '../db/database';

interface CheckEvent {
	at: number;
	ip_key: string;
	identifier_key: string;
	outcome: string;
}

interface Batch {
	rows: CheckEvent[];
	written: Promise<void>;
}

/** SQLite binds at most 32,766 values a statement; 4 per row. */
const MAX_ROWS = 1_000;

const open = new WeakMap<Db, Batch>();

/**
 * R15: one check's row in `check_events`, written together with the rows of the other checks
 * that reach this point in the same turn of the event loop: one multi-row insert (one commit)
 * instead of one per check (an insert into three indexes cost ~50–140 µs of a check's ~1 ms on
 * SQLite, docs/BENCHMARKS.md). The caller still waits until its row is stored, so a check is
 * never answered unrecorded, and a failed insert fails every check of its batch.
 */
export function writeCheckEvent(db: Db, row: CheckEvent): Promise<void> {
	let batch = open.get(db);
	if (!batch || batch.rows.length >= MAX_ROWS) {
		const rows: CheckEvent[] = [];
		const written = new Promise<void>((resolve, reject) => {
			setImmediate(() => {
				if (open.get(db)?.rows === rows) open.delete(db);
				db.insertInto('check_events')
					.values(rows)
					.execute()
					.then(() => resolve(), reject);
			});
		});
		batch = { rows, written };
		open.set(db, batch);
	}
	batch.rows.push(row);
	return batch.written;
}
