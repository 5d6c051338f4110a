import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as requestCode } from '../../src/routes/api/v1/verifications/+server';
import { POST as confirmCode } from '../../src/routes/api/v1/verifications/confirm/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

describe.each(testDatabases)(
	'R15a check codes to unregistered identifiers on $name',
	({ open }) => {
		let database: TestDatabase;
		let app: ReturnType<typeof testAppContext>;
		beforeAll(async () => {
			database = await open();
			app = testAppContext(database);
		});
		afterAll(() => database.dispose());

		const outboxTo = (recipient: string) =>
			database.db.selectFrom('outbox').select('id').where('recipient', '=', recipient).execute();
		async function answer(identifier: string, purpose: 'check' | 'appeal' = 'check') {
			const res = await callEndpoint(requestCode, app, { json: { identifier, purpose } });
			// Per-request randomness (the request id, a new browser's device cookie) set aside.
			const headers = [...res.headers.entries()].map(([name, value]) => [
				name,
				name === 'x-request-id' ? '<id>' : value.replace(/device=[^;]+/, 'device=<token>')
			]);
			return { status: res.status, headers, body: await res.text() };
		}

		it('R15a: a check code asked for an unregistered identifier is stored but never sent, and answered exactly as for a registered one', async () => {
			const registered = (await insertAccount(database.db, { email: uniqueEmail('known') })).email!;
			const stranger = uniqueEmail('unknown');
			const known = await answer(registered);
			const unknown = await answer(stranger);
			expect(known.status).toBe(202);
			expect(unknown).toEqual(known);
			expect(await outboxTo(registered)).toHaveLength(1);
			expect(await outboxTo(stranger)).toEqual([]);
			// The row exists, so the cooldown answers alike too.
			expect(await answer(stranger)).toEqual(await answer(registered));
		});

		it('R15a: confirming a code for an unregistered identifier answers as a wrong code does', async () => {
			const registered = (await insertAccount(database.db, { email: uniqueEmail('known') })).email!;
			const stranger = uniqueEmail('unknown');
			expect((await answer(registered)).status).toBe(202);
			expect((await answer(stranger)).status).toBe(202);
			const right = await latestCode(database.db, registered);
			const guess = String((Number(right) + 1) % 1e6).padStart(6, '0');
			const confirm = async (identifier: string) => {
				const res = await callEndpoint(confirmCode, app, {
					json: { identifier, code: guess, purpose: 'check' }
				});
				return { status: res.status, body: await res.json() };
			};
			const wrong = await confirm(registered);
			expect([wrong.status, wrong.body.error.code]).toEqual([400, 'code_invalid']);
			expect(await confirm(stranger)).toEqual(wrong);
		});

		it('R19: an appeal code to a new (unregistered) contact is still sent', async () => {
			const newContact = uniqueEmail('appeal');
			expect((await answer(newContact, 'appeal')).status).toBe(202);
			expect(await outboxTo(newContact)).toHaveLength(1);
		});
	}
);
