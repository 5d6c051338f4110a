import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Keys leave the database: the HMAC key that `0002-app-secrets` kept beside the hashes it keyed
 * (so a copy of the database could recompute every code) is dropped. Keys now come only from the
 * key ring (`APP_SECRET_KEYS`, core/keys.ts); codes issued before this migration stop matching.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema.dropTable('app_secrets').execute();
}
