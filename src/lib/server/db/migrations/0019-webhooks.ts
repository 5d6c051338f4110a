import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

/**
 * R27, outbound webhooks: one row per event and endpoint, delivered by the webhook worker in the
 * order of `seq` per account and endpoint, retried for 24 hours. The body holds nothing secret
 * (masked contacts only), so it is stored as sent.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
	await db.schema
		.createTable('webhook_deliveries')
		.addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
			dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()
		)
		.addColumn('id', 'text', (c) => c.notNull().unique())
		.addColumn('endpoint', 'text', (c) => c.notNull())
		.addColumn('account_id', 'text', (c) => c.notNull())
		.addColumn('type', 'text', (c) => c.notNull())
		.addColumn('body', 'text', (c) => c.notNull())
		.addColumn('created_at', 'bigint', (c) => c.notNull())
		.addColumn('status', 'text', (c) =>
			c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`)
		)
		.addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
		.addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
		.addColumn('locked_until', 'bigint')
		.addColumn('last_error', 'text')
		.addColumn('delivered_at', 'bigint')
		.execute();
	// The worker: due rows, and the older pending row of the same account and endpoint.
	await db.schema
		.createIndex('webhook_deliveries_due_idx')
		.on('webhook_deliveries')
		.columns(['status', 'next_attempt_at'])
		.execute();
	await db.schema
		.createIndex('webhook_deliveries_account_idx')
		.on('webhook_deliveries')
		.columns(['account_id', 'endpoint', 'status', 'seq'])
		.execute();
	// The console (newest first) and retention (by age).
	await db.schema
		.createIndex('webhook_deliveries_created_idx')
		.on('webhook_deliveries')
		.column('created_at')
		.execute();
}
