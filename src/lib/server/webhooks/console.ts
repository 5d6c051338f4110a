import { audit } from '../core/audit';
import type { Ctx } from '../core/context';
import { hostOf } from './worker';

/** R27 in the console (admins only): recent deliveries, failures first. No body is shown. */
interface DeliveryView {
	id: string;
	type: string;
	host: string;
	accountId: string;
	status: 'pending' | 'delivered' | 'failed';
	attempts: number;
	lastError: string | null;
	createdAt: Date;
	nextAttemptAt: Date | null;
	deliveredAt: Date | null;
}

export async function listDeliveries(ctx: Ctx, limit = 100): Promise<DeliveryView[]> {
	const rows = await ctx.db
		.selectFrom('webhook_deliveries')
		.select([
			'id',
			'type',
			'endpoint',
			'account_id',
			'status',
			'attempts',
			'last_error',
			'created_at',
			'next_attempt_at',
			'delivered_at'
		])
		.orderBy((eb) => eb.case().when('status', '=', 'failed').then(0).else(1).end())
		.orderBy('seq', 'desc')
		.limit(limit)
		.execute();
	return rows.map((row) => ({
		id: row.id,
		type: row.type,
		host: hostOf(row.endpoint),
		accountId: row.account_id,
		status: row.status,
		attempts: row.attempts,
		lastError: row.last_error,
		createdAt: new Date(row.created_at),
		nextAttemptAt: row.status === 'pending' ? new Date(row.next_attempt_at) : null,
		deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at)
	}));
}

/**
 * R27: an admin sends a failed delivery again: it is pending now, with the same id (a receiver
 * that got it after all drops the repeat). One more attempt; failing again, it is failed again.
 */
export async function resendDelivery(
	ctx: Ctx,
	agent: { id: string; role: 'agent' | 'admin' },
	id: string,
	meta: { ip: string }
): Promise<boolean> {
	if (agent.role !== 'admin') return false;
	const now = ctx.clock.now().getTime();
	return ctx.db.transaction().execute(async (trx) => {
		const reset = await trx
			.updateTable('webhook_deliveries')
			.set({ status: 'pending', next_attempt_at: now, locked_until: null })
			.where('id', '=', id)
			.where('status', '=', 'failed')
			.returning(['type', 'account_id'])
			.executeTakeFirst();
		if (!reset) return false;
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: agent.role,
				actorId: agent.id,
				action: 'webhook.resent',
				subjectKind: 'account',
				subjectId: reset.account_id,
				ip: meta.ip,
				details: { delivery: id, type: reset.type }
			}
		);
		return true;
	});
}
