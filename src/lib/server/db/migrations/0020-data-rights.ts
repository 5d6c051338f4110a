import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R28, the owner's data rights. The deletion the owner asked for waits 14 days
 * (`accounts.deletion_due_at`, null when none waits; a small partial index finds the due ones),
 * with a cancel link to every bound contact (`deletion_cancel_tokens`, only a hash of the link's
 * token stored). At the erasure the audit log keeps its rows but loses what they said about the
 * person: the append-only triggers (0001, R22) now let exactly one update through — `ip` set to
 * null and `details` to the erased marker, every other column unchanged — and only for a row
 * about an account or appeal that no longer exists (the erasure deletes them first), or by an
 * account that no longer exists. Nothing else may change a row; no row may be deleted, replaced
 * (SQLite's INSERT OR REPLACE) or truncated (PostgreSQL).
 */
export const ERASED_DETAILS = '{"erased":true}';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	await db.schema.alterTable('accounts').addColumn('deletion_due_at', 'bigint').execute();
	await sql`create index accounts_deletion_due_idx on accounts (deletion_due_at)
		where deletion_due_at is not null`.execute(db);

	await db.schema
		.createTable('deletion_cancel_tokens')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('expires_at', 'bigint', (c) => c.notNull())
		.addColumn('used_at', 'bigint')
		.execute();
	await db.schema
		.createIndex('deletion_cancel_tokens_account_idx')
		.on('deletion_cancel_tokens')
		.column('account_id')
		.execute();

	// The owner's export and the erasure read the entries by the account (the subject's index is 0003).
	await db.schema
		.createIndex('audit_events_actor_idx')
		.on('audit_events')
		.columns(['actor_kind', 'actor_id'])
		.execute();

	if (dialect === 'postgres') {
		// The trigger of 0001 calls this function for updates and deletes alike.
		await sql`create or replace function audit_events_append_only() returns trigger
			language plpgsql as $$
			begin
				if tg_op <> 'UPDATE' then raise exception 'audit_events is append-only'; end if;
				if new.id = old.id and new.at = old.at and new.actor_kind = old.actor_kind
					and new.actor_id is not distinct from old.actor_id and new.action = old.action
					and new.subject_kind is not distinct from old.subject_kind
					and new.subject_id is not distinct from old.subject_id
					and new.ip is null and new.details = ${sql.lit(ERASED_DETAILS)}
					and ((old.subject_kind = 'account'
							and not exists (select 1 from accounts where id = old.subject_id))
						or (old.subject_kind = 'appeal'
							and not exists (select 1 from appeals where id = old.subject_id))
						or (old.actor_kind = 'account'
							and not exists (select 1 from accounts where id = old.actor_id)))
				then return new; end if;
				raise exception 'audit_events is append-only';
			end $$`.execute(db);
		await sql`create trigger audit_events_no_truncate before truncate on audit_events
			for each statement execute function audit_events_append_only()`.execute(db);
	} else {
		await sql`drop trigger audit_events_no_update`.execute(db);
		await sql`create trigger audit_events_no_update before update on audit_events
			when not (new.id is old.id and new.at is old.at and new.actor_kind is old.actor_kind
				and new.actor_id is old.actor_id and new.action is old.action
				and new.subject_kind is old.subject_kind and new.subject_id is old.subject_id
				and new.ip is null and new.details is ${sql.lit(ERASED_DETAILS)}
				and ((old.subject_kind is 'account'
						and not exists (select 1 from accounts where id = old.subject_id))
					or (old.subject_kind is 'appeal'
						and not exists (select 1 from appeals where id = old.subject_id))
					or (old.actor_kind is 'account'
						and not exists (select 1 from accounts where id = old.actor_id))))
			begin select raise(abort, 'audit_events is append-only'); end`.execute(db);
		// INSERT OR REPLACE deletes the row it replaces without the delete trigger: refused here.
		await sql`create trigger audit_events_no_replace before insert on audit_events
			when exists (select 1 from audit_events where id = new.id)
			begin select raise(abort, 'audit_events is append-only'); end`.execute(db);
	}
}
