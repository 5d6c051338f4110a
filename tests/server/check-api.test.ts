import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

describe.each(testDatabases)('POST /api/v1/check on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	it('R13: an unknown email is reported not registered, masked, with "register" next', async () => {
		const res = await callEndpoint(POST, app, { json: { identifier: 'nobody.here@example.com' } });
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(await res.json()).toEqual({
			identifier: { kind: 'email', masked: 'n***e@e***.com' },
			registered: false,
			status: null,
			verification: { pending: false },
			nextSteps: [{ action: 'register', href: '/register' }],
			tier: 'public'
		});
	});

	it('R1/R13: an account is found whatever the case of the typed address', async () => {
		const email = uniqueEmail();
		await insertAccount(database.db, { email, status: 'under_review' });
		const res = await callEndpoint(POST, app, { json: { identifier: email.toUpperCase() } });
		const report = await res.json();
		expect(report.registered).toBe(true);
		expect(report.status).toBe('under_review');
		expect(report.nextSteps.map((s: { action: string }) => s.action)).toEqual(['sign_in', 'forgot_password']);
	});

	it('R2/R13: a phone typed without +86 is found with the chosen country', async () => {
		await insertAccount(database.db, { email: null, phone: '+8613900139000' });
		const res = await callEndpoint(POST, app, { json: { identifier: '139 0013 9000', country: 'CN' } });
		const report = await res.json();
		expect(report).toMatchObject({ registered: true, identifier: { kind: 'phone', masked: '+86 139****9000' } });
	});

	it('R13: a code pending right now is reported with its purpose and expiry, and not once expired', async () => {
		const email = uniqueEmail();
		const now = app.clock.now().getTime();
		await database.db
			.insertInto('verification_codes')
			.values({ id: crypto.randomUUID(), purpose: 'register', identifier: email, code_hash: 'x', created_at: now, expires_at: now + 300_000, consumed_at: null, account_id: null, payload: null })
			.execute();
		const pending = await (await callEndpoint(POST, app, { json: { identifier: email } })).json();
		expect(pending.verification).toEqual({ pending: true, purpose: 'register', expiresAt: new Date(now + 300_000).toISOString() });
		app.clock.advance(300_000);
		const expired = await (await callEndpoint(POST, app, { json: { identifier: email } })).json();
		expect(expired.verification).toEqual({ pending: false });
	});

	it('R1: a malformed email gets 400 invalid_identifier with a message saying what is wrong', async () => {
		const res = await callEndpoint(POST, app, { json: { identifier: 'john.gmail.com' } });
		expect(res.status).toBe(400);
		const body = await res.json();
		expect(body.error.code).toBe('invalid_identifier');
		expect(body.error.message).toMatch(/not valid/);
		expect(body.error.fields.identifier).toBeTruthy();
	});

	it('SPEC §10: unknown fields, non-JSON and wrong types are refused with stable codes', async () => {
		const unknown = await callEndpoint(POST, app, { json: { identifier: 'a@b.com', admin: true } });
		expect(unknown.status).toBe(400);
		expect((await unknown.json()).error).toMatchObject({ code: 'invalid_request', fields: { admin: 'Unknown field.' } });

		const array = await callEndpoint(POST, app, { json: { identifier: ['a@b.com', 'c@d.com'] } });
		expect((await array.json()).error.code).toBe('invalid_request');

		const text = await callEndpoint(POST, app, { body: '{"identifier":"a@b.com"}', headers: { 'content-type': 'text/plain' } });
		expect(text.status).toBe(415);

		const broken = await callEndpoint(POST, app, { body: '{"identifier":', headers: { 'content-type': 'application/json' } });
		expect(broken.status).toBe(400);
		expect((await broken.json()).error.code).toBe('invalid_json');
	});
});
