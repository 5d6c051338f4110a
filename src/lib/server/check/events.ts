import type { Ctx } from '../core/context';
import type { Db } from '../db/database';

interface CheckEvent {
	at: number;
	ip_key: string;
	identifier_key: string;
	outcome: string;
}

/** One multi-row insert for a batch (at most 1,000 rows: 4 values each, within SQLite's 32,766). */
const insertEvents = (db: Db, rows: CheckEvent[]) =>
	db.insertInto('check_events').values(rows).execute();

/**
 * R15: one check's row in `check_events`, written behind (`db/write-behind.ts`): queued in this
 * process and stored with the other checks of the next 200 ms in one insert, so no check waits
 * on a commit (an insert into three indexes cost ~50–140 µs of a check's ~1 ms on SQLite,
 * docs/BENCHMARKS.md, and a round trip on PostgreSQL). A crash loses at most that last batch;
 * closing the context stores it. The process's `asc_checks_total` counts every check at once.
 */
export function writeCheckEvent(ctx: Pick<Ctx, 'writeBehind'>, row: CheckEvent): void {
	ctx.writeBehind.add('check_events', insertEvents, row);
}
