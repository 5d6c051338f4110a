import type { Account } from '../db/schema';
import type { Identifier } from '../core/identifiers';
import type { Ctx } from '../core/context';

export async function findAccountByIdentifier(
	ctx: Ctx,
	id: Identifier
): Promise<Account | undefined> {
	const { db } = ctx;
	return db
		.selectFrom('accounts')
		.selectAll()
		.where(id.kind === 'email' ? 'email' : 'phone', '=', id.value)
		.executeTakeFirst();
}

/** The contact an account is bound to: its email, else its phone (one is always set, R1–R3). */
export function boundContact(account: Account): Identifier {
	return account.email
		? { kind: 'email', value: account.email }
		: { kind: 'phone', value: account.phone! };
}
