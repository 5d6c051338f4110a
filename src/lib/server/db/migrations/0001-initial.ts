import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../database';

/** Every table of docs/rules.md §2–§8. Written once for both databases; `dialect` covers the differences. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	const ms = 'bigint' as const;
	const serialPk = dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const);
	const serialPkColumn = (c: ColumnDefinitionBuilder) =>
		dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

	await db.schema
		.createTable('devices')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('last_seen_at', ms, (c) => c.notNull())
		.execute();

	await db.schema
		.createTable('accounts')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('email', 'text')
		.addColumn('phone', 'text')
		.addColumn('password_hash', 'text', (c) => c.notNull())
		.addColumn('status', 'text', (c) =>
			c.notNull().check(sql`status in ('active', 'under_review', 'disabled')`)
		)
		.addColumn('country', 'text', (c) => c.notNull())
		.addColumn('locale', 'text', (c) => c.notNull().defaultTo('en'))
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('first_order_at', ms)
		.addColumn('reg_ip_country', 'text')
		.addColumn('reg_device_id', 'text', (c) => c.references('devices.id'))
		.addColumn('multiple_accounts_on_device', 'integer', (c) => c.notNull().defaultTo(0))
		.addColumn('review_decided_at', ms)
		.addColumn('review_decided_by', 'text')
		.addCheckConstraint('accounts_has_contact', sql`email is not null or phone is not null`)
		.execute();
	// R3: one account per identifier, enforced by the database so racing registrations get one row.
	await db.schema
		.createIndex('accounts_email_key')
		.unique()
		.on('accounts')
		.column('email')
		.execute();
	await db.schema
		.createIndex('accounts_phone_key')
		.unique()
		.on('accounts')
		.column('phone')
		.execute();
	await db.schema
		.createIndex('accounts_device_idx')
		.on('accounts')
		.column('reg_device_id')
		.execute();

	await db.schema
		.createTable('verification_codes')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('purpose', 'text', (c) => c.notNull())
		.addColumn('identifier', 'text', (c) => c.notNull())
		.addColumn('code_hash', 'text', (c) => c.notNull())
		.addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('expires_at', ms, (c) => c.notNull())
		.addColumn('consumed_at', ms)
		.addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
		.addColumn('payload', 'text')
		.execute();
	// R6: a new code for the same purpose and identifier replaces the old one.
	await db.schema
		.createIndex('verification_codes_purpose_identifier_key')
		.unique()
		.on('verification_codes')
		.columns(['purpose', 'identifier'])
		.execute();

	await db.schema
		.createTable('contact_changes')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('owner', 'appeal')`))
		.addColumn('old_identifier', 'text', (c) => c.notNull())
		.addColumn('new_identifier', 'text', (c) => c.notNull())
		.addColumn('changed_at', ms, (c) => c.notNull())
		.execute();
	await db.schema
		.createIndex('contact_changes_account_idx')
		.on('contact_changes')
		.columns(['account_id', 'changed_at'])
		.execute();

	await db.schema
		.createTable('sessions')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('last_active_at', ms, (c) => c.notNull())
		.addColumn('expires_at', ms, (c) => c.notNull())
		.addColumn('ip', 'text')
		.addColumn('ip_country', 'text')
		.addColumn('user_agent', 'text')
		.execute();
	await db.schema.createIndex('sessions_account_idx').on('sessions').column('account_id').execute();

	await db.schema
		.createTable('agents')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('username', 'text', (c) => c.notNull().unique())
		.addColumn('password_hash', 'text', (c) => c.notNull())
		.addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('agent', 'admin')`))
		.addColumn('totp_key', 'text')
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('disabled_at', ms)
		.execute();

	await db.schema
		.createTable('agent_sessions')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('last_active_at', ms, (c) => c.notNull())
		.addColumn('expires_at', ms, (c) => c.notNull())
		.addColumn('ip', 'text')
		.addColumn('second_factor_verified', 'integer', (c) => c.notNull().defaultTo(0))
		.execute();

	await db.schema
		.createTable('appeals')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('reference', 'text', (c) => c.notNull().unique())
		.addColumn('status_token_hash', 'text', (c) => c.notNull())
		.addColumn('account_id', 'text', (c) => c.references('accounts.id'))
		.addColumn('old_identifier', 'text', (c) => c.notNull())
		.addColumn('new_identifier', 'text', (c) => c.notNull())
		.addColumn('description', 'text', (c) => c.notNull())
		.addColumn('status', 'text', (c) =>
			c
				.notNull()
				.check(sql`status in ('submitted', 'in_review', 'needs_info', 'approved', 'rejected')`)
		)
		.addColumn('locale', 'text', (c) => c.notNull().defaultTo('en'))
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('due_at', ms, (c) => c.notNull())
		.addColumn('updated_at', ms, (c) => c.notNull())
		.addColumn('assigned_agent_id', 'text', (c) => c.references('agents.id'))
		.addColumn('decided_at', ms)
		.addColumn('decided_by', 'text', (c) => c.references('agents.id'))
		.addColumn('decision_reason', 'text')
		.execute();
	await db.schema
		.createIndex('appeals_due_idx')
		.on('appeals')
		.columns(['status', 'due_at'])
		.execute();
	await db.schema.createIndex('appeals_account_idx').on('appeals').column('account_id').execute();

	await db.schema
		.createTable('appeal_documents')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('appeal_id', 'text', (c) => c.notNull().references('appeals.id').onDelete('cascade'))
		.addColumn('storage_key', 'text', (c) => c.notNull().unique())
		.addColumn('content_type', 'text', (c) => c.notNull())
		.addColumn('byte_size', 'integer', (c) => c.notNull())
		.addColumn('sha256', 'text', (c) => c.notNull())
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('deleted_at', ms)
		.execute();

	await db.schema
		.createTable('appeal_messages')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('appeal_id', 'text', (c) => c.notNull().references('appeals.id').onDelete('cascade'))
		.addColumn('author_kind', 'text', (c) => c.notNull())
		.addColumn('author_id', 'text')
		.addColumn('body', 'text', (c) => c.notNull())
		.addColumn('created_at', ms, (c) => c.notNull())
		.execute();

	await db.schema
		.createTable('audit_events')
		.addColumn('id', serialPk, serialPkColumn)
		.addColumn('at', ms, (c) => c.notNull())
		.addColumn('actor_kind', 'text', (c) => c.notNull())
		.addColumn('actor_id', 'text')
		.addColumn('action', 'text', (c) => c.notNull())
		.addColumn('subject_kind', 'text')
		.addColumn('subject_id', 'text')
		.addColumn('ip', 'text')
		.addColumn('details', 'text')
		.execute();
	await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();
	// R22: the audit log is append-only, enforced by the database itself.
	if (dialect === 'postgres') {
		await sql`create function audit_events_append_only() returns trigger language plpgsql as $$
			begin raise exception 'audit_events is append-only'; end $$`.execute(db);
		await sql`create trigger audit_events_no_update before update or delete on audit_events
			for each row execute function audit_events_append_only()`.execute(db);
	} else {
		await sql`create trigger audit_events_no_update before update on audit_events
			begin select raise(abort, 'audit_events is append-only'); end`.execute(db);
		await sql`create trigger audit_events_no_delete before delete on audit_events
			begin select raise(abort, 'audit_events is append-only'); end`.execute(db);
	}

	await db.schema
		.createTable('outbox')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('email', 'sms')`))
		.addColumn('recipient', 'text', (c) => c.notNull())
		.addColumn('purpose', 'text', (c) => c.notNull())
		.addColumn('locale', 'text', (c) => c.notNull())
		.addColumn('subject', 'text')
		.addColumn('body', 'text', (c) => c.notNull())
		.addColumn('status', 'text', (c) =>
			c.notNull().check(sql`status in ('pending', 'sent', 'dead')`)
		)
		.addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
		.addColumn('next_attempt_at', ms, (c) => c.notNull())
		.addColumn('locked_until', ms)
		.addColumn('last_error', 'text')
		.addColumn('created_at', ms, (c) => c.notNull())
		.addColumn('sent_at', ms)
		.execute();
	await db.schema
		.createIndex('outbox_due_idx')
		.on('outbox')
		.columns(['status', 'next_attempt_at'])
		.execute();
	await db.schema
		.createIndex('outbox_recipient_idx')
		.on('outbox')
		.columns(['recipient', 'created_at'])
		.execute();

	await db.schema
		.createTable('rate_limits')
		.addColumn('key', 'text', (c) => c.primaryKey())
		.addColumn('points', 'integer', (c) => c.notNull())
		.addColumn('reset_at', ms, (c) => c.notNull())
		.execute();

	await db.schema
		.createTable('check_events')
		.addColumn('id', serialPk, serialPkColumn)
		.addColumn('at', ms, (c) => c.notNull())
		.addColumn('ip_key', 'text', (c) => c.notNull())
		.addColumn('identifier_key', 'text', (c) => c.notNull())
		.addColumn('outcome', 'text', (c) => c.notNull())
		.execute();
	await db.schema
		.createIndex('check_events_ip_idx')
		.on('check_events')
		.columns(['ip_key', 'at'])
		.execute();
}
