import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { precompiled } from '../../src/lib/server/db/precompiled';
import { testDatabases, type TestDatabase } from '../support/databases';
import { insertAccount } from '../support/factories';

/** R15: the check's statements are built and compiled once, then run with each call's values. */
describe.each(testDatabases)('precompiled queries on $name', ({ open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	it('compiles once and binds each call its own values, beside the constants the builder wrote', async () => {
		const a = await insertAccount(database.db, { status: 'active' });
		const b = await insertAccount(database.db, { status: 'active' });
		const build = vi.fn((db: TestDatabase['db'], p: { email: string }) =>
			db
				.selectFrom('accounts')
				.select(['id', 'email'])
				.where('email', '=', p.email)
				.where('status', 'in', ['active', 'under_review'])
		);
		const query = precompiled(build);
		expect(await query.first(database.db, { email: a.email as string })).toEqual({
			id: a.id,
			email: a.email
		});
		expect(await query.execute(database.db, { email: b.email as string })).toEqual([
			{ id: b.id, email: b.email }
		]);
		expect(await query.first(database.db, { email: 'nobody@example.com' })).toBeUndefined();
		expect(build).toHaveBeenCalledTimes(1);
	});

	it('a value is a bound parameter, never SQL', async () => {
		const account = await insertAccount(database.db);
		const query = precompiled((db, p: { email: string }) =>
			db.selectFrom('accounts').select('id').where('email', '=', p.email)
		);
		expect(await query.execute(database.db, { email: `' or '1'='1` })).toEqual([]);
		expect(await query.first(database.db, { email: account.email as string })).toEqual({
			id: account.id
		});
	});

	it('a call without one of its values fails loudly instead of binding a placeholder', async () => {
		const query = precompiled((db, p: { email: string }) =>
			db.selectFrom('accounts').select('id').where('email', '=', p.email)
		);
		await expect(query.execute(database.db, {} as { email: string })).rejects.toThrow(
			/no value for email/
		);
	});
});
