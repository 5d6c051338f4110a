import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Buyers' two-step verification (rules §7a–§7c): a TOTP secret per account (sealed with the key ring),
 * single-use recovery codes (keyed hashes), passkeys (public keys only), the WebAuthn challenges
 * the server issued (hashed, single use, expiring) and the sign-ins waiting for their second factor
 * (only the hash of the pending cookie). Numbered 0010 on its own: it needs nothing from 0009.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('account_totp')
		.addColumn('account_id', 'text', (c) =>
			c.primaryKey().references('accounts.id').onDelete('cascade')
		)
		.addColumn('secret', 'text', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('confirmed_at', 'bigint')
		.addColumn('last_step', 'bigint')
		.execute();
	await db.schema
		.createTable('recovery_codes')
		.addColumn('code_hash', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.execute();
	await db.schema
		.createIndex('recovery_codes_account')
		.on('recovery_codes')
		.column('account_id')
		.execute();
	await db.schema
		.createTable('passkeys')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('public_key', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
		.addColumn('counter', 'bigint', (c) => c.notNull())
		.addColumn('transports', 'text')
		.addColumn('name', 'text', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('last_used_at', 'bigint')
		.execute();
	await db.schema.createIndex('passkeys_account').on('passkeys').column('account_id').execute();
	await db.schema
		.createTable('webauthn_challenges')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('kind', 'text', (c) => c.notNull())
		.addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
		.addColumn('pending_id', 'text')
		.addColumn('expires_at', 'bigint', (c) => c.notNull())
		.execute();
	await db.schema
		.createIndex('webauthn_challenges_expiry')
		.on('webauthn_challenges')
		.column('expires_at')
		.execute();
	await db.schema
		.createTable('pending_sign_ins')
		.addColumn('id', 'text', (c) => c.primaryKey())
		.addColumn('account_id', 'text', (c) =>
			c.notNull().references('accounts.id').onDelete('cascade')
		)
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('expires_at', 'bigint', (c) => c.notNull())
		.execute();
	await db.schema
		.createIndex('pending_sign_ins_expiry')
		.on('pending_sign_ins')
		.column('expires_at')
		.execute();
}
