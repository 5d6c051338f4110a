import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Rules §7a (sessions and devices, new-device alerts, password change): the devices each account
 * has signed in from (a sign-in from one not listed alerts the bound contact), the single-use
 * "this wasn't me" tokens those alerts carry (only their SHA-256), and when the password was
 * last changed (the checkup's password age).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.alterTable('accounts').addColumn('password_changed_at', 'bigint').execute();
	await db.schema
		.createTable('account_devices')
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		// SHA-256 of the device cookie's token, as devices.id (R10).
		.addColumn('device_id', 'text', (c) => c.notNull())
		.addColumn('first_seen_at', 'bigint', (c) => c.notNull())
		.addColumn('last_seen_at', 'bigint', (c) => c.notNull())
		.addPrimaryKeyConstraint('account_devices_pkey', ['account_id', 'device_id'])
		.execute();
	await db.schema
		.createIndex('account_devices_last_seen_idx')
		.on('account_devices')
		.column('last_seen_at')
		.execute();
	await db.schema
		.createTable('secure_account_tokens')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('expires_at', 'bigint', (c) => c.notNull())
		.addColumn('used_at', 'bigint')
		.execute();
	await db.schema
		.createIndex('secure_account_tokens_expires_idx')
		.on('secure_account_tokens')
		.column('expires_at')
		.execute();
}
