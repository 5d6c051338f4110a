import type { Db } from '../db/database';
import type { Account } from '../db/schema';
import type { Identifier } from '../core/identifiers';

export async function findAccountByIdentifier(db: Db, id: Identifier): Promise<Account | undefined> {
	return db
		.selectFrom('accounts')
		.selectAll()
		.where(id.kind === 'email' ? 'email' : 'phone', '=', id.value)
		.executeTakeFirst();
}
