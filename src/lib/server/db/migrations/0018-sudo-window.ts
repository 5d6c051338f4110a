import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Rules §7a, the owner's re-authentication window: one right current password opens 10 minutes
 * for this session (`sessions.sudo_until`) in which the two-step page's settings ask for no
 * password field. On the session row, so it is per session and ends with it (sign-out, password
 * change, every remedy that ends sessions). Existing rows start with no window.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.alterTable('sessions').addColumn('sudo_until', 'bigint').execute();
}
