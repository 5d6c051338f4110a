import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R20–R22: what the support console needs beyond the initial tables — who claimed an appeal and
 * when, a pending first approval (APPEAL_REQUIRE_SECOND_APPROVAL), the last TOTP step an agent
 * used (a code is accepted once), and which upload a document came with.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.alterTable('appeals').addColumn('claimed_at', 'bigint').execute();
	await db.schema
		.alterTable('appeals')
		.addColumn('first_approval_by', 'text', (c) => c.references('agents.id'))
		.execute();
	await db.schema.alterTable('appeals').addColumn('first_approval_at', 'bigint').execute();
	await db.schema.alterTable('agents').addColumn('totp_last_step', 'bigint').execute();
	await db.schema
		.alterTable('appeal_documents')
		.addColumn('source', 'text', (c) => c.notNull().defaultTo('submission'))
		.execute();
	await db.schema
		.createIndex('appeal_documents_appeal_idx')
		.on('appeal_documents')
		.column('appeal_id')
		.execute();
	await db.schema
		.createIndex('appeal_messages_appeal_idx')
		.on('appeal_messages')
		.column('appeal_id')
		.execute();
	await db.schema
		.createIndex('audit_events_subject_idx')
		.on('audit_events')
		.columns(['subject_kind', 'subject_id'])
		.execute();
}
