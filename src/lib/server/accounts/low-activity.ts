import { m } from '$lib/paraglide/messages';
import { findAccountByIdentifier } from './find';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';

/** R11: an account without a first paid order 72 hours after registering is low-activity. */
const LOW_ACTIVITY_AFTER_MS = 72 * 3_600_000;

export function isLowActivity(
	account: Pick<Account, 'created_at' | 'first_order_at'>,
	now: Date
): boolean {
	return (
		account.first_order_at === null && now.getTime() >= account.created_at + LOW_ACTIVITY_AFTER_MS
	);
}

export async function recordFirstOrder(
	ctx: Ctx,
	rawIdentifier: string
): Promise<{ ok: true } | Failure> {
	const parsed = parseIdentifier(rawIdentifier);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const account = await findAccountByIdentifier(ctx, parsed.identifier);
	if (!account) return failure(404, 'account_not_found', m.error_account_not_found());
	// The first one counts; later reports change nothing.
	await ctx.db
		.updateTable('accounts')
		.set({ first_order_at: ctx.clock.now().getTime() })
		.where('id', '=', account.id)
		.where('first_order_at', 'is', null)
		.execute();
	return { ok: true };
}
