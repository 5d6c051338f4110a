import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Retention (retention.ts, docs/DATA.md): per-hour check counts that outlive the raw events
 * (metrics read them instead of counting every check ever, R15), and the indexes the hourly
 * deletes range over, so none of them scans the table it shrinks.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('check_event_hours')
		.addColumn('hour_start', 'bigint', (c) => c.notNull())
		.addColumn('outcome', 'text', (c) => c.notNull())
		.addColumn('count', 'bigint', (c) => c.notNull())
		// One row per hour and outcome: a second roll-up of the same hour inserts nothing.
		.addPrimaryKeyConstraint('check_event_hours_pkey', ['hour_start', 'outcome'])
		.execute();

	await db.schema.createIndex('check_events_at_idx').on('check_events').column('at').execute();
	await db.schema
		.createIndex('rate_limits_reset_idx')
		.on('rate_limits')
		.column('reset_at')
		.execute();
	await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
	await db.schema
		.createIndex('sessions_last_active_idx')
		.on('sessions')
		.column('last_active_at')
		.execute();
	await db.schema
		.createIndex('agent_sessions_expires_idx')
		.on('agent_sessions')
		.column('expires_at')
		.execute();
	await db.schema
		.createIndex('agent_sessions_last_active_idx')
		.on('agent_sessions')
		.column('last_active_at')
		.execute();
	await db.schema
		.createIndex('verification_codes_expires_idx')
		.on('verification_codes')
		.column('expires_at')
		.execute();
	// Dead messages are found by (status, next_attempt_at): the existing outbox_due_idx.
	await db.schema
		.createIndex('outbox_sent_idx')
		.on('outbox')
		.columns(['status', 'sent_at'])
		.execute();
	await db.schema
		.createIndex('devices_last_seen_idx')
		.on('devices')
		.column('last_seen_at')
		.execute();
	await db.schema
		.createIndex('contact_changes_changed_idx')
		.on('contact_changes')
		.column('changed_at')
		.execute();
	await db.schema.createIndex('appeals_decided_idx').on('appeals').column('decided_at').execute();
}
