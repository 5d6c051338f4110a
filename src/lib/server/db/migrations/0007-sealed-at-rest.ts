import type { Kysely } from 'kysely';
import type { Dialect } from '../database';
import type { MigrationContext } from '../migration-context';

/**
 * Secrets at rest sealed with the key ring (core/keys.ts; keys outside the database):
 * - outbox: `subject` and `body` (which carried codes in clear) become one sealed `payload`,
 *   bound to the row id; waiting messages are sealed on the way, the text of delivered and dead
 *   ones is dropped (R7 only needs what is still to be sent);
 * - agents: `totp_key` (base64url of the TOTP secret) is sealed in place, bound to the agent id.
 */
export async function up(
	db: Kysely<unknown>,
	_dialect: Dialect,
	{ keys }: MigrationContext
): Promise<void> {
	const raw = db as unknown as Kysely<{
		outbox: {
			id: string;
			status: string;
			subject: string | null;
			body: string;
			payload: string | null;
		};
		agents: { id: string; totp_key: string | null };
	}>;
	await db.schema.alterTable('outbox').addColumn('payload', 'text').execute();
	const waiting = await raw
		.selectFrom('outbox')
		.select(['id', 'subject', 'body'])
		.where('status', '=', 'pending')
		.execute();
	for (const row of waiting) {
		const payload = keys.seal(
			'outbox',
			row.id,
			JSON.stringify({ subject: row.subject, body: row.body })
		);
		await raw.updateTable('outbox').set({ payload }).where('id', '=', row.id).execute();
	}
	await db.schema.alterTable('outbox').dropColumn('subject').execute();
	await db.schema.alterTable('outbox').dropColumn('body').execute();

	const agents = await raw
		.selectFrom('agents')
		.select(['id', 'totp_key'])
		.where('totp_key', 'is not', null)
		.execute();
	for (const agent of agents) {
		if (agent.totp_key!.startsWith('v1.')) continue;
		const sealed = keys.seal('totp', agent.id, Buffer.from(agent.totp_key!, 'base64url'));
		await raw.updateTable('agents').set({ totp_key: sealed }).where('id', '=', agent.id).execute();
	}
}
