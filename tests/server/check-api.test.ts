import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { POST as sendCode } from '../../src/routes/api/v1/verifications/+server';
import { POST as confirmCode } from '../../src/routes/api/v1/verifications/confirm/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

const DAY = 86_400_000;

describe.each(testDatabases)('POST /api/v1/check on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	});
	afterAll(() => database.dispose());

	const check = async (
		identifier: string,
		opts: { country?: string; jar?: CookieJar; ip?: string; app?: typeof app } = {}
	) => {
		const res = await callEndpoint(POST, opts.app ?? app, {
			json: { identifier, ...(opts.country ? { country: opts.country } : {}) },
			jar: opts.jar,
			clientAddress: opts.ip ?? '1.0.1.1'
		});
		return { status: res.status, headers: res.headers, body: await res.json() };
	};
	const now = () => app.clock.now().getTime();
	async function prove(email: string, jar: CookieJar) {
		expect(
			(await callEndpoint(sendCode, app, { json: { identifier: email, purpose: 'check' }, jar }))
				.status
		).toBe(202);
		const res = await callEndpoint(confirmCode, app, {
			json: { identifier: email, purpose: 'check', code: await latestCode(database.db, email) },
			jar
		});
		expect(res.status).toBe(200);
		return res.json();
	}

	it('R13: an unknown email: not registered, masked, "register" next, public tier', async () => {
		const { status, headers, body } = await check('nobody.here@example.com');
		expect(status).toBe(200);
		expect(headers.get('cache-control')).toBe('no-store');
		expect(body).toEqual({
			identifier: { kind: 'email', masked: 'n***e@e***.com' },
			registered: false,
			status: null,
			verification: { pending: false },
			warnings: [],
			networkCountry: 'CN',
			nextSteps: [{ action: 'register', href: '/register' }],
			tier: 'public',
			checkedAt: app.clock.now().toISOString()
		});
	});

	it('R13/R15a: a registered account shows status and steps, but no verified fields before proof', async () => {
		const email = uniqueEmail();
		await insertAccount(database.db, { email, status: 'under_review' });
		const { body } = await check(email.toUpperCase());
		expect(body).toMatchObject({ registered: true, status: 'under_review', tier: 'public' });
		expect(body.nextSteps.map((s: { action: string }) => s.action)).toEqual([
			'sign_in',
			'forgot_password',
			'appeal'
		]);
		expect(body.warnings.map((w: { code: string }) => w.code)).toEqual(['under_review']);
		for (const hidden of ['contactChange', 'contacts', 'recentActivity'])
			expect(body).not.toHaveProperty(hidden);
	});

	it('R2/R13: a phone typed without +86 is found with the chosen country', async () => {
		await insertAccount(database.db, { email: null, phone: '+8613900139000' });
		const { body } = await check('139 0013 9000', { country: 'CN' });
		expect(body).toMatchObject({
			registered: true,
			identifier: { kind: 'phone', masked: '+86 139****9000' }
		});
	});

	it('R13: a pending code shows its purpose and expiry; once expired, "expired unused"', async () => {
		const email = uniqueEmail();
		const t = now();
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
		expect((await check(email)).body.verification).toEqual({
			pending: true,
			purpose: 'register',
			expiresAt: new Date(t + 300_000).toISOString()
		});
		app.clock.advance(300_000);
		expect((await check(email)).body.verification).toEqual({
			pending: false,
			expiredUnused: { purpose: 'register', expiredAt: new Date(t + 300_000).toISOString() }
		});
	});

	it('R9/R13: ip_country_mismatch names only the request country, for accounts and intended countries', async () => {
		const email = uniqueEmail();
		await insertAccount(database.db, { email, country: 'CN' });
		const fromUs = await check(email, { ip: '8.8.8.8' });
		expect(fromUs.body.warnings).toEqual([
			expect.objectContaining({ code: 'ip_country_mismatch', requestCountry: 'US' })
		]);
		expect(JSON.stringify(fromUs.body.warnings)).not.toContain('CN');
		expect((await check(email, { ip: '1.0.1.1' })).body.warnings).toEqual([]);
		expect((await check(email, { ip: '10.0.0.1' })).body.warnings).toEqual([]);
		const intended = await check(uniqueEmail(), { ip: '8.8.8.8', country: 'CN' });
		expect(intended.body.warnings.map((w: { code: string }) => w.code)).toEqual([
			'ip_country_mismatch'
		]);
	});

	it('R15a: proving control with a check code shows the verified tier in this browser only', async () => {
		const email = uniqueEmail();
		const created = now() - 80 * 3_600_000;
		const account = await insertAccount(database.db, {
			email,
			created_at: created,
			multiple_accounts_on_device: 1
		});
		await database.db
			.insertInto('contact_changes')
			.values({
				id: crypto.randomUUID(),
				account_id: account.id,
				kind: 'owner',
				old_identifier: 'x',
				new_identifier: email,
				changed_at: now() - 2 * DAY
			})
			.execute();
		const jar: CookieJar = new Map();
		const verified = await prove(email, jar);
		expect(verified.tier).toBe('verified');
		expect(verified.contactChange).toEqual({
			used: 1,
			limit: 2,
			remaining: 1,
			windowDays: 180,
			minIntervalDays: 7,
			nextAllowedAt: new Date(now() + 5 * DAY).toISOString()
		});
		expect(verified.warnings.map((w: { code: string }) => w.code)).toEqual([
			'low_activity',
			'multiple_accounts_on_device'
		]);
		expect(verified.nextSteps).toContainEqual({
			action: 'wait',
			until: new Date(now() + 5 * DAY).toISOString()
		});
		expect(verified.contacts).toEqual([{ kind: 'email', masked: expect.stringContaining('***') }]);

		expect((await check(email, { jar })).body.tier).toBe('verified');
		expect((await check(email, { jar: new Map() })).body.tier).toBe('public');
		const otherEmail = uniqueEmail();
		await insertAccount(database.db, { email: otherEmail });
		expect((await check(otherEmail, { jar })).body.tier).toBe('public');
		app.clock.advance(10 * 60_000);
		expect((await check(email, { jar })).body.tier).toBe('public');
	});

	it('R15a: a wrong check code discloses nothing', async () => {
		const email = uniqueEmail();
		await insertAccount(database.db, { email });
		await callEndpoint(sendCode, app, { json: { identifier: email, purpose: 'check' } });
		const res = await callEndpoint(confirmCode, app, {
			json: {
				identifier: email,
				purpose: 'check',
				code: '000000' === (await latestCode(database.db, email)) ? '111111' : '000000'
			}
		});
		expect([res.status, (await res.json()).error.code]).toEqual([400, 'code_invalid']);
	});

	it('R15a open mode: every field is public', async () => {
		const email = uniqueEmail();
		await insertAccount(database.db, { email });
		const open = testAppContext(database, { env: { CHECK_DISCLOSURE: 'open' } });
		const { body } = await check(email, { app: open });
		expect(body).toMatchObject({
			tier: 'verified',
			registered: true,
			contactChange: { used: 0, remaining: 2 }
		});
	});

	it('R15a strict mode: before proof, registered and unregistered identifiers get the same answer', async () => {
		const strict = testAppContext(database, { env: { CHECK_DISCLOSURE: 'strict' } });
		const registered = uniqueEmail('same');
		await insertAccount(database.db, { email: registered, status: 'under_review' });
		const a = await check(registered, { app: strict, ip: '8.8.8.8' });
		const b = await check(registered.replace('same', 'samf'), { app: strict, ip: '8.8.8.8' });
		const strip = (r: { identifier: unknown }) => ({ ...r, identifier: undefined });
		expect(strip(a.body)).toEqual(strip(b.body));
		expect(a.body).toEqual({
			identifier: expect.any(Object),
			warnings: [],
			networkCountry: 'US',
			nextSteps: [],
			tier: 'public',
			checkedAt: expect.any(String)
		});
		expect([...a.headers.keys()]).toEqual([...b.headers.keys()]);
	});

	it('R15: limits per identifier answer 429 with Retry-After and a message', async () => {
		const limited = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IDENTIFIER: '3', CHECK_RATE_LIMIT_WINDOW_SECONDS: '600' }
		});
		const email = uniqueEmail();
		for (let i = 0; i < 3; i++)
			expect((await check(email, { app: limited, ip: `8.8.8.${i}` })).status).toBe(200);
		const refused = await check(email, { app: limited, ip: '8.8.8.99' });
		expect(refused.status).toBe(429);
		expect(refused.headers.get('retry-after')).toBe('600');
		expect(refused.body.error).toMatchObject({
			code: 'rate_limited',
			message: expect.stringContaining('10 min'),
			limit: 'identifier'
		});
		// R15: rows are written behind (check/events.ts); closing or flushing stores them.
		await limited.writeBehind.flush();
		const counted = await database.db
			.selectFrom('check_events')
			.select('outcome')
			.orderBy('id', 'desc')
			.limit(1)
			.executeTakeFirstOrThrow();
		expect(counted.outcome).toBe('rate_limited');
		limited.clock.advance(600_000);
		expect((await check(email, { app: limited, ip: '8.8.8.100' })).status).toBe(200);
	});

	it('R15: limits per client address apply across identifiers', async () => {
		const limited = testAppContext(database, { env: { CHECK_RATE_LIMIT_PER_IP: '2' } });
		expect((await check(uniqueEmail(), { app: limited, ip: '9.9.9.9' })).status).toBe(200);
		expect((await check(uniqueEmail(), { app: limited, ip: '9.9.9.9' })).status).toBe(200);
		expect((await check(uniqueEmail(), { app: limited, ip: '9.9.9.9' })).status).toBe(429);
		expect((await check(uniqueEmail(), { app: limited, ip: '9.9.9.10' })).status).toBe(200);
	});

	it('R15/R15a: the verified report through the confirm endpoint is counted and limited like the check', async () => {
		const limited = testAppContext(database, { env: { CHECK_RATE_LIMIT_PER_IDENTIFIER: '2' } });
		const email = (await insertAccount(database.db, { email: uniqueEmail('confirm') })).email!;
		const jar: CookieJar = new Map();
		const events = async () => {
			await limited.writeBehind.flush();
			return Number(
				(
					await database.db
						.selectFrom('check_events')
						.select((eb) => eb.fn.countAll<number>().as('n'))
						.where('identifier_key', '=', limited.keys.hmac('identifier', email))
						.executeTakeFirstOrThrow()
				).n
			);
		};
		expect(
			(
				await callEndpoint(sendCode, limited, {
					json: { identifier: email, purpose: 'check' },
					jar
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, email);
		const before = await events();
		const wrong = await callEndpoint(confirmCode, limited, {
			json: { identifier: email, purpose: 'check', code: '000000' },
			jar,
			clientAddress: '8.8.8.1'
		});
		expect(wrong.status).toBe(400);
		expect(await events()).toBe(before + 1);
		const right = await callEndpoint(confirmCode, limited, {
			json: { identifier: email, purpose: 'check', code },
			jar,
			clientAddress: '8.8.8.2'
		});
		expect([right.status, (await right.json()).tier]).toEqual([200, 'verified']);
		expect(await events()).toBe(before + 2);
		// The identifier's limit (2) is spent: neither the check nor another confirmation discloses more.
		const third = await callEndpoint(confirmCode, limited, {
			json: { identifier: email, purpose: 'check', code },
			jar,
			clientAddress: '8.8.8.3'
		});
		expect([third.status, (await third.json()).error.code]).toEqual([429, 'rate_limited']);
		limited.clock.advance(600_000);
	});

	it('R15: every check is counted, with keyed hashes only', async () => {
		const email = uniqueEmail();
		await check(email, { ip: '8.8.4.4' });
		await app.writeBehind.flush();
		const rows = await database.db
			.selectFrom('check_events')
			.selectAll()
			.orderBy('id', 'desc')
			.limit(1)
			.execute();
		expect(rows[0]).toMatchObject({
			outcome: 'unregistered',
			ip_key: expect.stringMatching(/^[0-9a-f]{64}$/)
		});
		expect(JSON.stringify(rows)).not.toContain(email);
		expect(JSON.stringify(rows)).not.toContain('8.8.4.4');
	});

	it('R1: a malformed email gets 400 invalid_identifier with a message saying what is wrong', async () => {
		const { status, body } = await check('john.gmail.com');
		expect(status).toBe(400);
		expect(body.error).toMatchObject({
			code: 'invalid_identifier',
			message: expect.stringMatching(/not valid/),
			fields: { identifier: expect.any(String) }
		});
	});

	it('API (docs/api.md): unknown fields, non-JSON and wrong types are refused with stable codes', async () => {
		const unknown = await callEndpoint(POST, app, { json: { identifier: 'a@b.com', admin: true } });
		expect(unknown.status).toBe(400);
		expect((await unknown.json()).error).toMatchObject({
			code: 'invalid_request',
			fields: { admin: 'Unknown field.' }
		});
		const array = await callEndpoint(POST, app, { json: { identifier: ['a@b.com', 'c@d.com'] } });
		expect((await array.json()).error.code).toBe('invalid_request');
		const text = await callEndpoint(POST, app, {
			body: '{"identifier":"a@b.com"}',
			headers: { 'content-type': 'text/plain' }
		});
		expect(text.status).toBe(415);
		const broken = await callEndpoint(POST, app, {
			body: '{"identifier":',
			headers: { 'content-type': 'application/json' }
		});
		expect([broken.status, (await broken.json()).error.code]).toEqual([400, 'invalid_json']);
	});
});
