import { sql, type ExpressionBuilder } from 'kysely';
import type { Account, Database } from '../db/schema';
import type { Identifier } from '../core/identifiers';
import type { Ctx } from '../core/context';
import { precompiled } from '../db/precompiled';

const byEmail = precompiled((db, p: { value: string }) =>
	db.selectFrom('accounts').selectAll().where('email', '=', p.value)
);
const byPhone = precompiled((db, p: { value: string }) =>
	db.selectFrom('accounts').selectAll().where('phone', '=', p.value)
);
/** §8a: a held appeal whose new contact is `value` and whose rebind is due (a partial index). */
export const rebindDueTo =
	(value: string, now: number) => (eb: ExpressionBuilder<Database, 'appeals'>) =>
		eb.and([
			eb('new_identifier', '=', value),
			// A literal, not a parameter: SQLite matches a partial index's predicate only against a
			// literal (with a parameter its planner picked appeals_due_idx, every approved appeal).
			eb('status', '=', sql.lit('approved')),
			eb('rebound_at', 'is', null),
			eb('rebind_due_at', 'is not', null),
			eb('rebind_due_at', '<=', now)
		]);
const dueForNewContact = precompiled((db, p: { value: string; now: number }) =>
	db.selectFrom('appeals').select('id').where(rebindDueTo(p.value, p.now)).limit(1)
);

/**
 * The account bound to `id`. Rules §8a: a held rebind that is due is applied here at the latest,
 * on the first read of its account (a check, a sign-in, a reset request), not only by the job. It
 * costs nothing while none is due: the account row carries the due time; only a read that finds
 * no account asks a small partial index whether `id` is the new contact of a due, held appeal.
 * Inside a caller's transaction nothing is applied (the rebind takes its own transaction).
 */
export async function findAccountByIdentifier(
	ctx: Ctx,
	id: Identifier
): Promise<Account | undefined> {
	const read = () => (id.kind === 'email' ? byEmail : byPhone).first(ctx.db, { value: id.value });
	const account = await read();
	if (ctx.db.isTransaction) return account;
	const now = ctx.clock.now().getTime();
	if (account && (account.rebind_due_at === null || Number(account.rebind_due_at) > now))
		return account;
	if (!account && !(await dueForNewContact.first(ctx.db, { value: id.value, now }))) return account;
	// Loaded only when a rebind is due: appeals/ imports this module.
	const { settleDueRebinds } = await import('../appeals/recovery');
	return (await settleDueRebinds(ctx, id, account)) ? read() : account;
}

/** The contact an account is bound to: its email, else its phone (one is always set, R1–R3). */
export function boundContact(account: Account): Identifier {
	return account.email
		? { kind: 'email', value: account.email }
		: { kind: 'phone', value: account.phone! };
}
