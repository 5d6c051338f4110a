import type { Db } from './database';

/** The tables whose rows are delivered by a worker claiming one attempt at a time. */
type AttemptTable = 'outbox' | 'webhook_deliveries';

/**
 * Claims one delivery attempt of a row read as due (R7, R27): a compare-and-set UPDATE that
 * succeeds only if no other worker has touched the row since it was read (same attempts, same
 * lock), locking it until `lockedUntil`. Any number of workers in any number of processes, on
 * SQLite or PostgreSQL, so make each attempt once. False: another worker owns this attempt.
 */
export async function claimAttempt(
	db: Db,
	table: AttemptTable,
	row: { id: string; attempts: number; locked_until: number | null },
	lockedUntil: number
): Promise<boolean> {
	const claim = await db
		.updateTable(table)
		.set({ locked_until: lockedUntil })
		.where('id', '=', row.id)
		.where('status', '=', 'pending')
		.where('attempts', '=', row.attempts)
		.where('locked_until', row.locked_until === null ? 'is' : '=', row.locked_until)
		.executeTakeFirst();
	return claim.numUpdatedRows === 1n;
}
