import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

const STATUSES = `'submitted', 'in_review', 'needs_info', 'approved', 'rejected', 'cancelled'`;

/**
 * Recovery the owner controls (rules §8a): an appeal may now end `cancelled` (by a cancel link sent
 * to the contacts bound when it was filed, or by the signed-in owner); an approval waits out a hold
 * (`rebind_due_at`) before the rebind (`rebound_at`); the filing network's country is kept as
 * evidence for agents; cancel links are stored as SHA-256 only; an owner can freeze the account.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	await allowCancelledStatus(db, dialect);
	for (const column of ['rebind_due_at', 'rebound_at', 'cancelled_at', 'reminded_at'])
		await db.schema.alterTable('appeals').addColumn(column, 'bigint').execute();
	await db.schema
		.alterTable('appeals')
		.addColumn('cancelled_by', 'text', (c) => c.check(sql`cancelled_by in ('link', 'owner')`))
		.execute();
	await db.schema.alterTable('appeals').addColumn('ip_country', 'text').execute();
	// The job that applies due rebinds finds them without a scan.
	await db.schema
		.createIndex('appeals_rebind_due_idx')
		.on('appeals')
		.column('rebind_due_at')
		.execute();

	await db.schema
		.createTable('recovery_cancel_tokens')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('appeal_id', 'text', (c) => c.notNull().references('appeals.id').onDelete('cascade'))
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('expires_at', 'bigint', (c) => c.notNull())
		.addColumn('used_at', 'bigint')
		.execute();
	await db.schema
		.createIndex('recovery_cancel_tokens_appeal_idx')
		.on('recovery_cancel_tokens')
		.column('appeal_id')
		.execute();
	await db.schema
		.createIndex('recovery_cancel_tokens_expires_idx')
		.on('recovery_cancel_tokens')
		.column('expires_at')
		.execute();

	await db.schema.alterTable('accounts').addColumn('frozen_at', 'bigint').execute();
}

/**
 * The status check of 0001 lists the five old statuses. PostgreSQL replaces the constraint;
 * SQLite cannot alter one, so the table is rebuilt from its own stored definition (SQLite's
 * documented twelve steps: foreign keys off, copy, drop, rename, indexes back, check, on).
 * Migrations on SQLite run outside a transaction (Kysely), so the pragma takes effect.
 */
async function allowCancelledStatus(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	if (dialect === 'postgres') {
		await sql`alter table appeals drop constraint if exists appeals_status_check`.execute(db);
		await sql
			.raw(
				`alter table appeals add constraint appeals_status_check check (status in (${STATUSES}))`
			)
			.execute(db);
		return;
	}
	const objects = await sql<{ type: string; name: string; sql: string | null }>`
		select type, name, sql from sqlite_master where tbl_name = 'appeals'`.execute(db);
	const table = objects.rows.find((o) => o.type === 'table');
	const oldList = `'submitted', 'in_review', 'needs_info', 'approved', 'rejected'`;
	if (!table?.sql?.includes(oldList)) throw new Error('0011: unexpected appeals table definition');
	// Indexes and triggers go with the dropped table; their stored SQL brings them back.
	const indexes = objects.rows.filter((o) => o.type !== 'table' && o.sql !== null);
	await sql`pragma foreign_keys = off`.execute(db);
	try {
		await sql`begin`.execute(db);
		await sql
			.raw(
				table.sql
					.replace(/^create table "?appeals"?/i, 'create table "appeals_0011"')
					.replace(oldList, STATUSES)
			)
			.execute(db);
		await sql`insert into appeals_0011 select * from appeals`.execute(db);
		await sql`drop table appeals`.execute(db);
		await sql`alter table appeals_0011 rename to appeals`.execute(db);
		for (const index of indexes) await sql.raw(index.sql!).execute(db);
		const broken = await sql`pragma foreign_key_check`.execute(db);
		if (broken.rows.length > 0) throw new Error('0011: foreign keys broken by the rebuild');
		await sql`commit`.execute(db);
	} catch (error) {
		await sql`rollback`.execute(db).catch(() => {});
		throw error;
	} finally {
		await sql`pragma foreign_keys = on`.execute(db);
	}
}
