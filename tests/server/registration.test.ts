import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as register } from '../../src/routes/api/v1/registrations/+server';
import { POST as confirm } from '../../src/routes/api/v1/registrations/confirm/+server';
import { POST as resend } from '../../src/routes/api/v1/registrations/resend/+server';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { actions as registerPage } from '../../src/routes/register/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';

const PASSWORD = 'a long and quiet river';

describe.each(testDatabases)('registration on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	async function startAndConfirm(
		identifier: string,
		opts: { country?: string; ip?: string; jar?: CookieJar; recipient?: string } = {}
	) {
		const jar = opts.jar ?? new Map();
		const clientAddress = opts.ip ?? '1.0.1.1';
		const started = await callEndpoint(register, app, {
			json: { identifier, password: PASSWORD, country: opts.country ?? 'CN' },
			jar,
			clientAddress
		});
		expect(started.status).toBe(202);
		const code = await latestCode(database.db, opts.recipient ?? identifier.toLowerCase());
		const confirmed = await callEndpoint(confirm, app, {
			json: { identifier, code, country: opts.country ?? 'CN' },
			jar,
			clientAddress
		});
		return { started, confirmed, jar };
	}
	const accountRow = (column: 'email' | 'phone', value: string) =>
		database.db
			.selectFrom('accounts')
			.selectAll()
			.where(column, '=', value)
			.executeTakeFirstOrThrow();

	it('R8: email → code → account, signed in', async () => {
		const email = uniqueEmail();
		const { started, confirmed, jar } = await startAndConfirm(email);
		const sent = await started.json();
		expect(Date.parse(sent.expiresAt) - app.clock.now().getTime()).toBe(5 * 60_000);
		expect(Date.parse(sent.resendAfter) - app.clock.now().getTime()).toBe(60_000);
		expect(confirmed.status).toBe(201);
		expect(await confirmed.json()).toEqual({ account: { status: 'active' } });
		expect(jar.get('session')).toMatch(/^[a-z2-7]{32}$/);
		const me = await callEndpoint(account, app, { method: 'GET', jar });
		expect(me.status).toBe(200);
		expect((await me.json()).contacts).toEqual([
			{ kind: 'email', masked: expect.stringMatching(/^b\*\*\*[0-9a-f]@e\*\*\*\.com$/) }
		]);
	});

	it.each([
		['+86 138 %s', 'CN'],
		['0086-138-%s', 'CN'],
		['138%s', 'CN']
	])('R2/R8: registers a +86 phone typed as %j', async (format, country) => {
		const e164 = uniqueCnMobile();
		const typed = format.replace('%s', e164.slice(6));
		const { confirmed } = await startAndConfirm(typed, { country, recipient: e164 });
		expect(confirmed.status).toBe(201);
		expect((await accountRow('phone', e164)).phone).toBe(e164);
	});

	it('R2/R8: registers a +1 phone typed in US national format with the US chosen', async () => {
		const { confirmed } = await startAndConfirm('(201) 555-0142', {
			country: 'US',
			ip: '8.8.8.8',
			recipient: '+12015550142'
		});
		expect(confirmed.status).toBe(201);
		const row = await accountRow('phone', '+12015550142');
		expect(row.status).toBe('active');
		const sms = await database.db
			.selectFrom('outbox')
			.select(['channel'])
			.where('recipient', '=', '+12015550142')
			.executeTakeFirstOrThrow();
		expect(sms.channel).toBe('sms');
	});

	it('R9: a client at 8.8.8.8 choosing China gets an under_review account, with the evidence', async () => {
		const email = uniqueEmail();
		const { confirmed } = await startAndConfirm(email, { ip: '8.8.8.8', country: 'CN' });
		expect(await confirmed.json()).toEqual({ account: { status: 'under_review' } });
		const row = await accountRow('email', email);
		expect(row).toMatchObject({ status: 'under_review', country: 'CN', reg_ip_country: 'US' });
	});

	it('R9: a client at 1.0.1.1 choosing China gets an active account; unknown addresses are never flagged', async () => {
		const cn = await startAndConfirm(uniqueEmail(), { ip: '1.0.1.1', country: 'CN' });
		expect(await cn.confirmed.json()).toEqual({ account: { status: 'active' } });
		const local = await startAndConfirm(uniqueEmail(), { ip: '192.168.1.20', country: 'CN' });
		expect(await local.confirmed.json()).toEqual({ account: { status: 'active' } });
	});

	it('R10: a second account from the same device is flagged, the first is not', async () => {
		const jar: CookieJar = new Map();
		const first = uniqueEmail();
		await startAndConfirm(first, { jar });
		jar.delete('session');
		const second = uniqueEmail();
		await startAndConfirm(second, { jar });
		expect((await accountRow('email', first)).multiple_accounts_on_device).toBe(0);
		const flagged = await accountRow('email', second);
		expect(flagged.multiple_accounts_on_device).toBe(1);
		expect(flagged.reg_device_id).toMatch(/^[0-9a-f]{64}$/);
	});

	it('R3: 20 parallel confirmations: exactly one account, identifier_taken for the rest', async () => {
		const email = uniqueEmail();
		// One browser (one cookie jar) racing itself.
		const jar: CookieJar = new Map();
		await callEndpoint(register, app, {
			json: { identifier: email, password: PASSWORD, country: 'CN' },
			jar
		});
		const code = await latestCode(database.db, email);
		const responses = await Promise.all(
			Array.from({ length: 20 }, () =>
				callEndpoint(confirm, app, { json: { identifier: email, code }, jar })
			)
		);
		const statuses = responses.map((r) => r.status).sort();
		expect(statuses).toEqual([201, ...Array(19).fill(409)]);
		for (const r of responses.filter((r) => r.status === 409)) {
			expect((await r.json()).error.code).toBe('identifier_taken');
		}
		const { n } = await database.db
			.selectFrom('accounts')
			.select((eb) => eb.fn.countAll<number>().as('n'))
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		expect(Number(n)).toBe(1);
	});

	it('R3: registering a taken identifier says so at once, pointing to forgot-password', async () => {
		const email = uniqueEmail();
		await startAndConfirm(email);
		const again = await callEndpoint(register, app, {
			json: { identifier: email.toUpperCase(), password: PASSWORD, country: 'CN' }
		});
		expect(again.status).toBe(409);
		expect((await again.json()).error).toMatchObject({
			code: 'identifier_taken',
			message: expect.stringMatching(/reset your password/)
		});
	});

	it.each([
		[{ password: 'short' }, 'invalid_password'],
		[{ password: 'password123' }, 'password_too_common'],
		[{ identifier: 'john.gmail.com' }, 'invalid_identifier'],
		[{ country: 'XX' }, 'invalid_country'],
		[{ extra: 1 }, 'invalid_request']
	])('R5/R1: %j is refused with %s, and nothing is stored', async (override, code) => {
		const email = uniqueEmail();
		const res = await callEndpoint(register, app, {
			json: { identifier: email, password: PASSWORD, country: 'CN', ...override }
		});
		expect(res.status).toBe(400);
		expect((await res.json()).error.code).toBe(code);
		const codes = await database.db
			.selectFrom('verification_codes')
			.select('id')
			.where('identifier', '=', email)
			.execute();
		const messages = await database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', email)
			.execute();
		expect([codes, messages]).toEqual([[], []]);
	});

	it('R3/R6: a second browser cannot replace a pending registration’s password, and the starter’s code still signs in with the starter’s password', async () => {
		const email = uniqueEmail('victim');
		const victim: CookieJar = new Map();
		const attacker: CookieJar = new Map();
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: victim
				})
			).status
		).toBe(202);
		app.clock.advance(61_000);
		const hijack = await callEndpoint(register, app, {
			json: { identifier: email, password: 'the attacker knows this one', country: 'CN' },
			jar: attacker,
			clientAddress: '8.8.4.4'
		});
		// Answered like any start, but nothing is replaced and no new code goes out.
		expect(hijack.status).toBe(202);
		expect(
			await database.db.selectFrom('outbox').select('id').where('recipient', '=', email).execute()
		).toHaveLength(1);
		const confirmed = await callEndpoint(confirm, app, {
			json: { identifier: email, code: await latestCode(database.db, email) },
			jar: victim
		});
		expect(confirmed.status).toBe(201);
		expect(
			(
				await callEndpoint(signIn, app, {
					json: { identifier: email, password: 'the attacker knows this one' }
				})
			).status
		).toBe(401);
		expect(
			(await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD } })).status
		).toBe(201);
	});

	it('R3/R6: a stranger holding a pending registration locks nobody out: the code’s holder finishes it with their own password', async () => {
		const email = uniqueEmail('owner');
		const stranger: CookieJar = new Map();
		const owner: CookieJar = new Map();
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: 'the stranger chose this', country: 'CN' },
					jar: stranger,
					clientAddress: '8.8.4.5'
				})
			).status
		).toBe(202);
		app.clock.advance(20_000);
		// The owner starts too: kept beside the stranger's, no second code; the first code is in their inbox.
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: owner
				})
			).status
		).toBe(202);
		const done = await callEndpoint(confirm, app, {
			json: { identifier: email, code: await latestCode(database.db, email) },
			jar: owner
		});
		expect(done.status).toBe(201);
		expect(owner.get('session')).toBeDefined();
		expect(
			(
				await callEndpoint(signIn, app, {
					json: { identifier: email, password: 'the stranger chose this' }
				})
			).status
		).toBe(401);
		expect(
			(await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD } })).status
		).toBe(201);
	});

	it('R3/R6: only the browser that started a registration can resend its code or confirm it', async () => {
		const email = uniqueEmail('starter');
		const starter: CookieJar = new Map();
		const stranger: CookieJar = new Map();
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: starter
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, email);
		app.clock.advance(61_000);
		const resent = await callEndpoint(resend, app, { json: { identifier: email }, jar: stranger });
		expect([resent.status, (await resent.json()).error.code]).toEqual([400, 'code_invalid']);
		const elsewhere = await callEndpoint(confirm, app, {
			json: { identifier: email, code },
			jar: stranger
		});
		expect([elsewhere.status, (await elsewhere.json()).error.code]).toEqual([
			409,
			'registration_elsewhere'
		]);
		expect(
			await database.db.selectFrom('accounts').select('id').where('email', '=', email).execute()
		).toEqual([]);
		// The refusal spent nothing: the starter's code still works.
		expect(
			(await callEndpoint(confirm, app, { json: { identifier: email, code }, jar: starter })).status
		).toBe(201);
		expect(starter.has('registration')).toBe(false);
	});

	it('R6/R8: the register page never says a code was sent when a stranger’s "continue registration" sent none', async () => {
		const email = uniqueEmail('pending');
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: new Map()
				})
			).status
		).toBe(202);
		const outbox = () =>
			database.db.selectFrom('outbox').select('id').where('recipient', '=', email).execute();
		const sentBefore = (await outbox()).length;
		app.clock.advance(61_000);
		// The check report's "Enter your code or get a new one" posts here from any browser.
		const page = (await callEndpoint(registerPage.resend!, app, {
			body: new URLSearchParams({ identifier: email, country: 'CN' }),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			jar: new Map()
		})) as { status: number; data: Record<string, unknown> & { error: { message: string } } };
		expect((await outbox()).length).toBe(sentBefore);
		expect(page.data.step).toBe('details');
		expect(page.data).not.toHaveProperty('masked');
		expect(page.data).toMatchObject({ identifier: email, country: 'CN' });
		expect(page.data.error.message).not.toMatch(/sent a/i);
		expect(page.data.error.message).toMatch(/this browser/);
	});

	it('R3/R6: once a pending registration has expired, another browser may start over', async () => {
		const email = uniqueEmail('late');
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: new Map()
				})
			).status
		).toBe(202);
		app.clock.advance(5 * 60_000);
		const mine: CookieJar = new Map();
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar: mine
				})
			).status
		).toBe(202);
		expect(
			(
				await callEndpoint(confirm, app, {
					json: { identifier: email, code: await latestCode(database.db, email) },
					jar: mine
				})
			).status
		).toBe(201);
	});

	it('R6/R7: registration codes to one identifier are capped per hour (no resends without end)', async () => {
		const email = uniqueEmail('pump');
		const jar: CookieJar = new Map();
		const clientAddress = '198.51.100.7';
		expect(
			(
				await callEndpoint(register, app, {
					json: { identifier: email, password: PASSWORD, country: 'CN' },
					jar,
					clientAddress
				})
			).status
		).toBe(202);
		const statuses: number[] = [];
		for (let i = 0; i < 7; i++) {
			app.clock.advance(61_000);
			statuses.push(
				(await callEndpoint(resend, app, { json: { identifier: email }, jar, clientAddress }))
					.status
			);
		}
		expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
		expect(
			await database.db.selectFrom('outbox').select('id').where('recipient', '=', email).execute()
		).toHaveLength(6);
		// From every network together, 20 an hour: rotating addresses buys 14 more, then no more.
		const more: number[] = [];
		for (let i = 0; i < 16; i++) {
			app.clock.advance(61_000);
			more.push(
				(
					await callEndpoint(resend, app, {
						json: { identifier: email },
						jar,
						clientAddress: `203.0.113.${i + 1}`
					})
				).status
			);
		}
		expect(more.filter((s) => s === 202)).toHaveLength(14);
		expect(more.slice(-2)).toEqual([429, 429]);
		app.clock.advance(3_600_000);
	});

	it('R5: a password equal to the identifier is refused with a message saying why', async () => {
		const email = uniqueEmail();
		const res = await callEndpoint(register, app, {
			json: { identifier: email, password: email, country: 'CN' }
		});
		expect((await res.json()).error).toMatchObject({
			code: 'invalid_password',
			message: expect.stringMatching(/must not be your email/)
		});
	});

	it('R6: expired and wrong codes get distinct answers; resend before 60 s gets 429 + Retry-After', async () => {
		const email = uniqueEmail();
		const jar: CookieJar = new Map();
		await callEndpoint(register, app, {
			json: { identifier: email, password: PASSWORD, country: 'CN' },
			jar
		});
		const code = await latestCode(database.db, email);
		const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
		const bad = await callEndpoint(confirm, app, { json: { identifier: email, code: wrong }, jar });
		expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'code_invalid']);

		app.clock.advance(30_000);
		const early = await callEndpoint(resend, app, { json: { identifier: email }, jar });
		expect(early.status).toBe(429);
		expect(early.headers.get('retry-after')).toBe('30');

		app.clock.advance(4.5 * 60_000);
		const expired = await callEndpoint(confirm, app, { json: { identifier: email, code }, jar });
		expect([expired.status, (await expired.json()).error]).toEqual([
			410,
			expect.objectContaining({
				code: 'code_expired',
				message: 'This code has expired — request a new one.'
			})
		]);

		const again = await callEndpoint(resend, app, { json: { identifier: email }, jar });
		expect(again.status).toBe(202);
		const fresh = await latestCode(database.db, email);
		const ok = await callEndpoint(confirm, app, { json: { identifier: email, code: fresh }, jar });
		expect(ok.status).toBe(201);
	});
});
