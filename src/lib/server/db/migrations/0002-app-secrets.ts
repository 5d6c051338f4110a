import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * Server-side secrets (HMAC keys for codes and rate-limit keys) generated on first start and kept
 * in the shared database, so every instance agrees without extra configuration.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('app_secrets')
		.addColumn('name', 'text', (c) => c.primaryKey())
		.addColumn('value', 'text', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.execute();
}
