import { findAccountByIdentifier } from './find';
import type { AppContext } from '../core/context';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';

/** R11: an account without a first paid order 72 hours after registering is low-activity. */
export const LOW_ACTIVITY_AFTER_MS = 72 * 3_600_000;

export function isLowActivity(account: Pick<Account, 'created_at' | 'first_order_at'>, now: Date): boolean {
	return account.first_order_at === null && now.getTime() >= account.created_at + LOW_ACTIVITY_AFTER_MS;
}

export async function recordFirstOrder(
	deps: Pick<AppContext, 'database' | 'clock'>,
	rawIdentifier: string
): Promise<{ ok: true } | Failure> {
	const parsed = parseIdentifier(rawIdentifier);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const account = await findAccountByIdentifier(deps.database.db, parsed.identifier);
	if (!account) return failure(404, 'account_not_found', 'No account has this identifier.');
	// The first one counts; later reports change nothing.
	await deps.database.db
		.updateTable('accounts')
		.set({ first_order_at: deps.clock.now().getTime() })
		.where('id', '=', account.id)
		.where('first_order_at', 'is', null)
		.execute();
	return { ok: true };
}
