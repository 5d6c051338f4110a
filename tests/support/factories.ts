import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../src/lib/server/db/database';
import type { NewAccount } from '../../src/lib/server/db/schema';

let sequence = 0;

/** A unique, valid email address per call. */
export function uniqueEmail(prefix = 'buyer'): string {
	sequence += 1;
	return `${prefix}.${sequence}.${randomBytes(3).toString('hex')}@example.com`;
}

/** A unique, valid Chinese mobile number in E.164 per call. */
export function uniqueCnMobile(): string {
	const digits = String(Math.floor(Math.random() * 1e8)).padStart(8, '0');
	return `+86138${digits}`;
}

export function accountFactory(overrides: Partial<NewAccount> = {}): NewAccount {
	return {
		id: randomUUID(),
		email: uniqueEmail(),
		phone: null,
		// A syntactically real argon2id hash of an unknown password; never verified against.
		password_hash:
			'$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0sQ1PVvG4nQUpSxhP1fzFbl0yrHE2u7v3Y8G7Ls3Q0k',
		status: 'active',
		country: 'CN',
		locale: 'en',
		created_at: Date.parse('2026-01-01T00:00:00Z'),
		first_order_at: null,
		reg_ip_country: null,
		reg_device_id: null,
		multiple_accounts_on_device: 0,
		review_decided_at: null,
		review_decided_by: null,
		...overrides
	};
}

export async function insertAccount(
	db: Db,
	overrides: Partial<NewAccount> = {}
): Promise<NewAccount> {
	const account = accountFactory(overrides);
	await db.insertInto('accounts').values(account).execute();
	return account;
}
