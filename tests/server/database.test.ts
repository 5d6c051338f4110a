import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationNames } from '../../src/lib/server/db/migrate';
import { testKeyring } from '../../src/lib/server/core/keys';
import { testDatabases, type TestDatabase } from '../support/databases';
import { accountFactory, insertAccount } from '../support/factories';

describe.each(testDatabases)('database on $name', ({ open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	it('applies every migration once, and a second run changes nothing', async () => {
		const again = await migrateToLatest(database, { keys: testKeyring() });
		expect(again.results).toEqual([]);
		const tables = (await database.db.introspection.getTables()).map((t) => t.name);
		expect(tables).toEqual(
			expect.arrayContaining([
				'accounts',
				'devices',
				'verification_codes',
				'contact_changes',
				'sessions',
				'appeals',
				'appeal_documents',
				'appeal_messages',
				'agents',
				'agent_sessions',
				'audit_events',
				'outbox',
				'rate_limits',
				'check_events'
			])
		);
		expect(migrationNames).toContain('0001-initial');
	});

	it('R3: a second account with the same normalized email is refused by the unique index', async () => {
		const first = await insertAccount(database.db);
		await expect(insertAccount(database.db, { email: first.email })).rejects.toThrow(
			/unique|duplicate/i
		);
	});

	it('R3: a second account with the same phone is refused, and accounts without a phone coexist', async () => {
		const phone = '+8613800138123';
		await insertAccount(database.db, { email: null, phone });
		await expect(insertAccount(database.db, { email: null, phone })).rejects.toThrow(
			/unique|duplicate/i
		);
		await insertAccount(database.db, { phone: null });
		await insertAccount(database.db, { phone: null });
		const { count } = await database.db
			.selectFrom('accounts')
			.select((eb) => eb.fn.countAll<number>().as('count'))
			.where('phone', 'is', null)
			.executeTakeFirstOrThrow();
		expect(Number(count)).toBeGreaterThanOrEqual(2);
	});

	it('an account must have an email or a phone', async () => {
		await expect(
			database.db
				.insertInto('accounts')
				.values(accountFactory({ email: null, phone: null }))
				.execute()
		).rejects.toThrow();
	});

	it('stores instants as exact millisecond numbers', async () => {
		const created = Date.parse('2026-11-26T12:34:56.789Z');
		const account = await insertAccount(database.db, { created_at: created });
		const row = await database.db
			.selectFrom('accounts')
			.select('created_at')
			.where('id', '=', account.id)
			.executeTakeFirstOrThrow();
		expect(row.created_at).toBe(created);
	});

	it('R22: the audit log is append-only: updates and deletes are refused by the database', async () => {
		await database.db
			.insertInto('audit_events')
			.values({
				at: 1,
				actor_kind: 'system',
				actor_id: null,
				action: 'test',
				subject_kind: null,
				subject_id: null,
				ip: null,
				details: null
			})
			.execute();
		await expect(
			sql`update audit_events set action = 'tampered'`.execute(database.db)
		).rejects.toThrow(/append-only/);
		await expect(sql`delete from audit_events`.execute(database.db)).rejects.toThrow(/append-only/);
		const rows = await database.db.selectFrom('audit_events').select('action').execute();
		expect(rows.map((r) => r.action)).toEqual(['test']);
	});
});
