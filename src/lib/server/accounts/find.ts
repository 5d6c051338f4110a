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
