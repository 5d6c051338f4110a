import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R13/R15: the check looks a code up by identifier alone (any purpose), and agents count checks
 * per identifier; without these indexes both scan their tables as they grow.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.createIndex('verification_codes_identifier_idx')
		.on('verification_codes')
		.columns(['identifier', 'created_at'])
		.execute();
	await db.schema
		.createIndex('check_events_identifier_idx')
		.on('check_events')
		.columns(['identifier_key', 'at'])
		.execute();
}
