import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { runCheck, type Viewer } from '../../src/lib/server/check';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

const DAY = 86_400_000;

/** R15/R15a: the check says which limit refused it, and offers only steps true for the viewer. */
describe.each(testDatabases)('check limits and guidance on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	});
	afterAll(() => database.dispose());

	const check = async (identifier: string, ip: string, on = app) => {
		const res = await callEndpoint(POST, on, { json: { identifier }, clientAddress: ip });
		return { status: res.status, headers: res.headers, body: await res.json() };
	};
	const viewer = (overrides: Partial<Viewer> = {}): Viewer => ({
		requestCountry: null,
		deviceId: 'device-of-the-checker',
		address: '1.0.1.1',
		proven: () => false,
		...overrides
	});
	const actions = async (identifier: string, v: Viewer) => {
		const outcome = await runCheck(app, { identifier }, v);
		if (!outcome.ok) throw new Error(outcome.code);
		return outcome.report.nextSteps.map((s) => s.action);
	};

	it('R15: a 429 names its limit, network or identifier, with the wait in minutes', async () => {
		const limited = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '3', CHECK_RATE_LIMIT_PER_IDENTIFIER: '2' }
		});
		const email = uniqueEmail('limit');
		await check(email, '8.8.4.1', limited);
		await check(email, '8.8.4.2', limited);
		const byId = await check(email, '8.8.4.3', limited);
		expect(byId.status).toBe(429);
		expect(byId.body.error).toMatchObject({
			code: 'rate_limited',
			limit: 'identifier',
			retryAfter: 600,
			message: expect.stringContaining('10 min')
		});
		// The same network may still check another identifier.
		expect((await check(uniqueEmail('other'), '8.8.4.3', limited)).status).toBe(200);
		for (let i = 0; i < 2; i++) await check(uniqueEmail('burst'), '8.8.4.9', limited);
		await check(uniqueEmail('burst'), '8.8.4.9', limited);
		const byIp = await check(uniqueEmail('burst'), '8.8.4.9', limited);
		expect(byIp.status).toBe(429);
		expect(byIp.body.error).toMatchObject({ code: 'rate_limited', limit: 'network' });
		expect(byIp.body.error.message).toContain('network');
	});

	it('R15: the identifier limit answers registered and unregistered identifiers alike', async () => {
		const limited = testAppContext(database, { env: { CHECK_RATE_LIMIT_PER_IDENTIFIER: '1' } });
		const known = (await insertAccount(database.db, { email: uniqueEmail('known') })).email!;
		const unknown = uniqueEmail('known');
		await check(known, '8.8.5.1', limited);
		await check(unknown, '8.8.5.1', limited);
		const a = await check(known, '8.8.5.1', limited);
		const b = await check(unknown, '8.8.5.1', limited);
		expect(a.status).toBe(429);
		expect([a.status, [...a.headers.keys()], a.body]).toEqual([
			b.status,
			[...b.headers.keys()],
			b.body
		]);
	});

	it('R13: a registration waiting for its code is continued, not started again', async () => {
		const email = uniqueEmail('registering');
		const t = app.clock.now().getTime();
		await database.db
			.insertInto('verification_codes')
			.values({
				id: crypto.randomUUID(),
				purpose: 'register',
				identifier: email,
				code_hash: 'x',
				created_at: t,
				expires_at: t + 300_000,
				consumed_at: null,
				account_id: null,
				payload: null
			})
			.execute();
		expect(await actions(email, viewer())).toEqual(['continue_registration']);
		app.clock.advance(300_000);
		expect(await actions(email, viewer())).toEqual(['register']);
	});

	it('R13: the signed-in owner is not offered "Sign in" or "Forgot your password?"', async () => {
		const account = await insertAccount(database.db, { email: uniqueEmail('owner') });
		const owner = viewer({ signedInAccountId: account.id, proven: () => true });
		expect(await actions(account.email!, owner)).not.toContain('sign_in');
		expect(await actions(account.email!, owner)).not.toContain('forgot_password');
		expect(await actions(account.email!, viewer())).toEqual(
			expect.arrayContaining(['sign_in', 'forgot_password'])
		);
	});

	it('R15a: "Appeal" is not offered while one is open, to those who may see the appeal only', async () => {
		const account = await insertAccount(database.db, { email: uniqueEmail('appealing') });
		const t = app.clock.now().getTime();
		await database.db
			.insertInto('appeals')
			.values({
				id: crypto.randomUUID(),
				reference: `A-${crypto.randomUUID().slice(0, 8)}`,
				status_token_hash: crypto.randomUUID(),
				account_id: account.id,
				old_identifier: account.email!,
				new_identifier: uniqueEmail('new'),
				description: 'lost my phone',
				status: 'submitted',
				locale: 'en',
				created_at: t,
				due_at: t + 2 * DAY,
				updated_at: t
			})
			.execute();
		expect(await actions(account.email!, viewer({ proven: () => true }))).not.toContain('appeal');
		// Public tier: the open appeal is a verified field, so the step stays (nothing leaks).
		expect(await actions(account.email!, viewer())).toContain('appeal');
	});

	it('R9: the country mismatch warning names the country, not its code', async () => {
		await insertAccount(database.db, { email: uniqueEmail('abroad'), country: 'CN' });
		const outcome = await runCheck(
			app,
			{ identifier: uniqueEmail('abroad'), country: 'CN' },
			viewer({ requestCountry: 'US' })
		);
		if (!outcome.ok) throw new Error(outcome.code);
		expect(outcome.report.warnings[0]?.message).toContain('United States');
		expect(outcome.report.warnings[0]?.message).not.toMatch(/\bUS\b/);
	});
});
