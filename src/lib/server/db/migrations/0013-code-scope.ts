import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R6/R16: a contact-change code belongs to the account that asked for it, so pending codes are
 * keyed by (purpose, identifier, scope): `scope` is the account for `contact_change` and '' for
 * every other purpose, whose codes stay one per (purpose, identifier). Two accounts changing to
 * the same new contact each keep their own code, cooldown and tries.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
	await db.schema
		.alterTable('verification_codes')
		.addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
		.execute();
	// Rows already stored are unique per (purpose, identifier), so any scope keeps them unique.
	await sql`update verification_codes set scope = account_id
		where purpose = 'contact_change' and account_id is not null`.execute(db);
	await db.schema.dropIndex('verification_codes_purpose_identifier_key').execute();
	await db.schema
		.createIndex('verification_codes_purpose_identifier_scope_key')
		.unique()
		.on('verification_codes')
		.columns(['purpose', 'identifier', 'scope'])
		.execute();
}
