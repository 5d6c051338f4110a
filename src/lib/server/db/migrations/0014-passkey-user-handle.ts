import type { Kysely } from 'kysely';
import type { Dialect } from '../database';
import type { MigrationContext } from '../migration-context';

/**
 * WebAuthn §7.2 step 6: an assertion's `userHandle` must be the one the passkey was registered
 * with. Registration derived it from the key ring (an HMAC of the account id), which a key
 * rotation would change; `passkeys.user_handle` keeps it (base64url), so a rotation cannot
 * lock anyone out. Existing passkeys get the handle their registration used (the ring's newest
 * key then, unless the ring was rotated since; then their first assertions are refused).
 */
export async function up(
	db: Kysely<unknown>,
	_dialect: Dialect,
	{ keys }: MigrationContext
): Promise<void> {
	const raw = db as unknown as Kysely<{
		passkeys: { id: string; account_id: string; user_handle: string | null };
	}>;
	await db.schema.alterTable('passkeys').addColumn('user_handle', 'text').execute();
	const rows = await raw.selectFrom('passkeys').select(['id', 'account_id']).execute();
	for (const row of rows) {
		const handle = Buffer.from(
			keys.hmac('webauthn-user', row.account_id).slice(0, 32),
			'hex'
		).toString('base64url');
		await raw
			.updateTable('passkeys')
			.set({ user_handle: handle })
			.where('id', '=', row.id)
			.execute();
	}
}
