import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * The owner's remedies at sign-in (rules §7a): when the account was last secured by "this wasn't
 * me" (its known devices are forgotten then, and the next sign-in from any browser still alerts),
 * and pending sign-ins found by account, so ending every session ends them too.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.alterTable('accounts').addColumn('secured_at', 'bigint').execute();
	await db.schema
		.createIndex('pending_sign_ins_account_idx')
		.on('pending_sign_ins')
		.column('account_id')
		.execute();
}
