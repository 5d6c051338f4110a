import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * The key check (core/key-check.ts): one row per key id that has sealed, or may have sealed, what
 * this database holds, with a fixed text sealed under that key. Every start opens each row with
 * its ring, so a ring that is not this database's own stops the server at start instead of failing
 * later on the first sealed value it reads. No secret: a copy of the table opens nothing.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('key_checks')
		.addColumn('kid', 'text', (c) => c.primaryKey())
		.addColumn('sealed', 'text', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.execute();
}
