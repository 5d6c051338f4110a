import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CompiledQuery } from 'kysely';
import { buildReport, type Viewer } from '../../src/lib/server/check/report';
import { parseIdentifier, type Identifier } from '../../src/lib/server/core/identifiers';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { insertAccount, uniqueCnMobile, uniqueEmail } from '../support/factories';

const identifier = (raw: string): Identifier => {
	const parsed = parseIdentifier(raw);
	if (!parsed.ok) throw new Error(raw);
	return parsed.identifier;
};

/**
 * Issue 25: the report's reads are one statement, one round trip, on both databases; and the same
 * statement whether the identifier is registered or not (R15: the same work either way).
 */
describe.each(testDatabases)('the report reads in one round trip on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	const viewer = (proven: boolean): Viewer => ({
		requestCountry: 'US',
		deviceId: 'device-of-the-checker',
		address: '1.0.1.1',
		proven: () => proven
	});

	/** The statements the report sent to the database (every query passes the executor). */
	async function statements(raw: string, proven: boolean) {
		const executor = database.db.getExecutor();
		const sent: string[] = [];
		const original = executor.executeQuery.bind(executor);
		const spy = vi
			.spyOn(executor, 'executeQuery')
			.mockImplementation(<R>(query: CompiledQuery<R>) => {
				sent.push(query.sql);
				return original<R>(query);
			});
		try {
			const report = await buildReport(app, identifier(raw), 'CN', viewer(proven));
			return { sent, report };
		} finally {
			spy.mockRestore();
		}
	}

	it('R13, R15: one statement for a registered and for an unregistered identifier, the same one', async () => {
		const account = await insertAccount(database.db, { email: uniqueEmail('reads') });
		await database.db
			.insertInto('contact_changes')
			.values({
				id: randomUUID(),
				account_id: account.id,
				kind: 'owner',
				old_identifier: uniqueEmail('old'),
				new_identifier: account.email!,
				changed_at: app.clock.now().getTime() - 86_400_000
			})
			.execute();
		for (const proven of [false, true]) {
			const known = await statements(account.email!, proven);
			const unknown = await statements(uniqueEmail('nobody'), proven);
			expect(known.sent).toHaveLength(1);
			expect(unknown.sent).toEqual(known.sent);
			expect(known.report.registered).toBe(true);
			expect(unknown.report.registered).toBe(false);
		}
		// The verified tier read its sections from that one statement.
		const { report } = await statements(account.email!, true);
		expect(report.contactChange?.used).toBe(1);
		expect(report.security).toEqual({ twoStep: false, passkeys: 0, activeSessions: 0 });
	});

	it('R13: a phone number is one statement too, registered or not', async () => {
		const account = await insertAccount(database.db, { email: null, phone: uniqueCnMobile() });
		const known = await statements(account.phone!, true);
		const unknown = await statements(uniqueCnMobile(), true);
		expect(known.sent).toHaveLength(1);
		expect(unknown.sent).toEqual(known.sent);
		expect(known.report.contacts).toHaveLength(1);
	});
});
