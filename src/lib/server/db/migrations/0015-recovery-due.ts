import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Recovery the owner controls (rules §8a): the rebind of an approved appeal is applied at the
 * latest on the next read of its account once it is due. So that read costs nothing when nothing
 * is due, the account row carries the due time of its held rebind (`accounts.rebind_due_at`, null
 * when none waits), and a read by the appeal's new contact (not yet bound to any account) finds a
 * held appeal through a small partial index that holds only appeals waiting out their hold.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.alterTable('accounts').addColumn('rebind_due_at', 'bigint').execute();
	// Partial indexes: the same statement on SQLite and PostgreSQL.
	await sql`create index appeals_held_new_identifier_idx on appeals (new_identifier)
		where status = 'approved' and rebound_at is null and rebind_due_at is not null`.execute(db);
}
