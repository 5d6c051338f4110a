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
