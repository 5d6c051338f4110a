import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Rules §7a, the credential epoch: every remedy that ends an account's sessions
 * (`invalidateAccountSessions`) moves `accounts.session_epoch` on, and a session or a pending
 * sign-in is written only while the epoch its sign-in read with the account is still the
 * account's. A pending sign-in keeps the epoch of its password step, and its completion starts the
 * session with that one. Existing rows start at 0.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.alterTable('accounts')
		.addColumn('session_epoch', 'integer', (col) => col.notNull().defaultTo(0))
		.execute();
	await db.schema
		.alterTable('pending_sign_ins')
		.addColumn('session_epoch', 'integer', (col) => col.notNull().defaultTo(0))
		.execute();
}
