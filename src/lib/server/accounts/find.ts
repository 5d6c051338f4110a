import type { Account } from '../db/schema';
import type { Identifier } from '../core/identifiers';
import type { Ctx } from '../core/context';
import { precompiled } from '../db/precompiled';

const byEmail = precompiled((db, p: { value: string }) =>
	db.selectFrom('accounts').selectAll().where('email', '=', p.value)
);
const byPhone = precompiled((db, p: { value: string }) =>
	db.selectFrom('accounts').selectAll().where('phone', '=', p.value)
);

export async function findAccountByIdentifier(
	ctx: Ctx,
	id: Identifier
): Promise<Account | undefined> {
	return (id.kind === 'email' ? byEmail : byPhone).first(ctx.db, { value: id.value });
}

/** The contact an account is bound to: its email, else its phone (one is always set, R1–R3). */
export function boundContact(account: Account): Identifier {
	return account.email
		? { kind: 'email', value: account.email }
		: { kind: 'phone', value: account.phone! };
}
