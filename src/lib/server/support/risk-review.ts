import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Agent } from './agents';
import { audit } from '../core/audit';
import type { AccountStatus } from '../db/schema';
import { failure, type Failure } from '../core/failures';
import { invalidateAccountSessions } from '../accounts';

export type ReviewDecision = 'clear' | 'confirm';

const OUTCOME: Record<ReviewDecision, { status: AccountStatus; action: string }> = {
	clear: { status: 'active', action: 'support.review_cleared' },
	confirm: { status: 'disabled', action: 'support.review_confirmed' }
};

/**
 * R9: an agent clears a risk review (the account becomes active) or confirms it (the account
 * is disabled and every session signed out). The update is conditional on `under_review`, so
 * when two agents decide at once exactly one decision lands and the other gets a clear error.
 */
export async function decideReview(
	ctx: Ctx,
	agent: Agent,
	accountId: string,
	input: { decision: ReviewDecision; reason: string },
	meta: { ip: string }
): Promise<{ ok: true; status: AccountStatus } | Failure> {
	const { db } = ctx;
	const account = await db
		.selectFrom('accounts')
		.select(['id', 'status'])
		.where('id', '=', accountId)
		.executeTakeFirst();
	if (!account) return failure(404, 'account_not_found', m.support_error_account_unknown());
	if (account.status !== 'under_review')
		return failure(409, 'review_not_pending', m.support_error_review_not_pending());
	const { status, action } = OUTCOME[input.decision];
	const now = ctx.clock.now().getTime();
	return db.transaction().execute(async (trx) => {
		const moved = await trx
			.updateTable('accounts')
			.set({ status, review_decided_at: now, review_decided_by: agent.id })
			.where('id', '=', accountId)
			.where('status', '=', 'under_review')
			.executeTakeFirst();
		if (moved.numUpdatedRows === 0n)
			return failure(409, 'review_not_pending', m.support_error_review_not_pending());
		// A disabled account must not keep a live session (validateSessionToken refuses it too).
		if (status === 'disabled') await invalidateAccountSessions({ ...ctx, db: trx }, accountId);
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: agent.role,
				actorId: agent.id,
				action,
				subjectKind: 'account',
				subjectId: accountId,
				ip: meta.ip,
				details: { reason: input.reason, from: 'under_review', to: status }
			}
		);
		return { ok: true as const, status };
	});
}
