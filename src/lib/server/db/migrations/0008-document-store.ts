import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R19/R22: identity documents move from local files into the shared database, encrypted
 * (document-store.ts), so every instance serves every document. One row per rebuilt page:
 * which upload it came from, its page number and the upload's page count, and what the upload
 * was (an image or a PDF, by content).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('appeal_document_contents')
		.addColumn('document_id', 'text', (c) =>
			c.primaryKey().references('appeal_documents.id').onDelete('cascade')
		)
		.addColumn('wrapped_key', 'text', (c) => c.notNull())
		.addColumn('content', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.execute();
	await db.schema
		.alterTable('appeal_documents')
		.addColumn('upload_index', 'integer', (c) => c.notNull().defaultTo(0))
		.execute();
	await db.schema
		.alterTable('appeal_documents')
		.addColumn('page', 'integer', (c) => c.notNull().defaultTo(1))
		.execute();
	await db.schema
		.alterTable('appeal_documents')
		.addColumn('pages', 'integer', (c) => c.notNull().defaultTo(1))
		.execute();
	await db.schema.alterTable('appeal_documents').addColumn('original_type', 'text').execute();
}
