import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkup, CheckupItemCode } from '../../src/lib/types/checkup';
import { load } from '../../src/routes/account/security/+page.server';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as secondFactor } from '../../src/routes/api/v1/sessions/second-factor/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, testAppContext, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';
import { appCode } from '../support/two-step';
import { setUpTotp } from '../support/totp-setup';

const DAY = 86_400_000;
let address = 0;
const nextAddress = () => `1.0.3.${(address++ % 250) + 1}`;

describe.each(testDatabases)('security checkup (§7c) on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => {
		({ database, app } = await openTestApp(open, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		}));
	});
	afterAll(() => database.dispose());

	const now = () => app.clock.now().getTime();
	const member = (overrides: { created_at?: number; password_changed_at?: number } = {}) =>
		insertMember(app, 'checkup', { joinedNow: true, account: overrides });
	const browser = (email: string, jar: CookieJar = new Map()) =>
		signedInBrowser(app, email, { jar, clientAddress: nextAddress() });
	const checkup = async (jar: CookieJar) =>
		(
			(await callEndpoint(load as never, app, {
				method: 'GET',
				path: '/account/security',
				jar
			})) as { checkup: Checkup }
		).checkup;
	const item = (summary: Checkup, code: CheckupItemCode) =>
		summary.items.find((entry) => entry.code === code)!;
	const states = (summary: Checkup) =>
		Object.fromEntries(summary.items.map((entry) => [entry.code, entry.done]));

	const turnOnTotp = async (jar: CookieJar) => (await setUpTotp(app, jar)).secret;
	const auditEvent = (accountId: string, action: string, at: number) =>
		database.db
			.insertInto('audit_events')
			.values({
				at,
				actor_kind: 'account',
				actor_id: accountId,
				action,
				subject_kind: 'account',
				subject_id: accountId,
				ip: null,
				details: null
			})
			.execute();

	it('signed out: the page redirects to sign-in', async () => {
		await expect(
			callEndpoint(load as never, app, { method: 'GET', path: '/account/security' })
		).rejects.toMatchObject({ status: 303, location: '/login' });
	});

	it('a new member with one session: only two-step to do; turning TOTP on makes it all good', async () => {
		const { email } = await member();
		const jar = await browser(email);
		const before = await checkup(jar);
		expect(states(before)).toEqual({
			contact: true,
			two_step: false,
			sessions: true,
			events: true,
			password_age: true
		});
		expect(before.todo).toBe(1);
		expect(before.items.map((i) => [i.code, i.href])).toEqual([
			['contact', '/account/contact'],
			['two_step', '/account/security/two-step'],
			['sessions', '/account/security/sessions'],
			['events', '/account#activity'],
			['password_age', '/account/security/password']
		]);
		expect(item(before, 'contact').contacts).toEqual([expect.stringContaining('***')]);
		await turnOnTotp(jar);
		const after = await checkup(jar);
		expect(after.todo).toBe(0);
		expect(item(after, 'two_step')).toMatchObject({ done: true, passkeys: 0 });
	});

	it('§7c recovery codes: only with TOTP on; 4 left is done, 3 left is to do with a link to make new ones', async () => {
		const { email, id } = await member();
		const jar = await browser(email);
		expect(item(await checkup(jar), 'recovery_codes')).toBeUndefined();
		await turnOnTotp(jar);
		expect(item(await checkup(jar), 'recovery_codes')).toMatchObject({ done: true, count: 10 });
		const leave = async (kept: number) => {
			const rows = await database.db
				.selectFrom('recovery_codes')
				.select('code_hash')
				.where('account_id', '=', id)
				.execute();
			const extra = rows.slice(kept).map((row) => row.code_hash);
			if (extra.length)
				await database.db.deleteFrom('recovery_codes').where('code_hash', 'in', extra).execute();
		};
		await leave(4);
		expect(item(await checkup(jar), 'recovery_codes')).toMatchObject({ done: true, count: 4 });
		await leave(3);
		const low = await checkup(jar);
		expect(item(low, 'recovery_codes')).toEqual({
			code: 'recovery_codes',
			done: false,
			href: '/account/security/two-step#totp-heading',
			count: 3
		});
		expect(low.todo).toBe(1);
	});

	it('sessions: a second live session is to do; idle past the timeout it is done again', async () => {
		const { email } = await member();
		const jar = await browser(email);
		await browser(email);
		expect(item(await checkup(jar), 'sessions')).toMatchObject({ done: false, count: 2 });
		// The other one goes idle past the 24-hour idle timeout while this one stays in use.
		app.clock.advance(12 * 3_600_000);
		await checkup(jar);
		app.clock.advance(13 * 3_600_000);
		expect(item(await checkup(jar), 'sessions')).toMatchObject({ done: true, count: 1 });
	});

	it('recent events: a new-device alert or a failed second step within 30 days is to do; older ones are not', async () => {
		const { email, id } = await member();
		const jar = await browser(email);
		await auditEvent(id, 'account.password_changed', now() - DAY);
		expect(item(await checkup(jar), 'events').done).toBe(true);
		await auditEvent(id, 'account.new_device_alerted', now() - 31 * DAY);
		expect(item(await checkup(jar), 'events').done).toBe(true);
		await auditEvent(id, 'session.second_factor_failed', now() - 29 * DAY);
		await auditEvent(id, 'account.new_device_alerted', now() - DAY);
		const events = item(await checkup(jar), 'events');
		expect(events).toMatchObject({
			done: false,
			count: 2,
			at: new Date(now() - DAY).toISOString()
		});
	});

	it('password age: over 365 days is to do; null password_changed_at falls back to created_at', async () => {
		const legacy = await member({ created_at: now() - 400 * DAY });
		const old = item(await checkup(await browser(legacy.email)), 'password_age');
		expect(old).toMatchObject({ done: false, at: new Date(now() - 400 * DAY).toISOString() });
		const changed = await member({
			created_at: now() - 400 * DAY,
			password_changed_at: now() - 365 * DAY
		});
		expect(item(await checkup(await browser(changed.email)), 'password_age').done).toBe(true);
	});

	it('contact: in doubt while the account is under review or an appeal on it is open', async () => {
		const { email, id } = await member();
		const jar = await browser(email);
		await database.db
			.insertInto('appeals')
			.values({
				id: crypto.randomUUID(),
				reference: `A-${crypto.randomUUID().slice(0, 8)}`,
				status_token_hash: crypto.randomUUID(),
				account_id: id,
				old_identifier: email,
				new_identifier: uniqueEmail('new'),
				description: 'lost my phone',
				status: 'submitted',
				locale: 'en',
				created_at: now(),
				due_at: now() + 2 * DAY,
				updated_at: now()
			})
			.execute();
		const summary = await checkup(jar);
		expect(item(summary, 'contact').done).toBe(false);
		expect(summary.todo).toBe(2);
		const review = await member();
		const reviewJar = await browser(review.email);
		await database.db
			.updateTable('accounts')
			.set({ status: 'under_review' })
			.where('id', '=', review.id)
			.execute();
		expect(item(await checkup(reviewJar), 'contact').done).toBe(false);
	});

	describe('the check’s verified tier: security and turn_on_two_step (R15a)', () => {
		const run = async (identifier: string, mode: string, jar?: CookieJar) => {
			const ctx = testAppContext(database, {
				env: {
					CHECK_DISCLOSURE: mode,
					CHECK_RATE_LIMIT_PER_IP: '100000',
					CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000'
				}
			});
			ctx.clock.set(app.clock.now());
			const res = await callEndpoint(check, ctx, {
				json: { identifier },
				jar,
				clientAddress: '1.0.1.1'
			});
			expect(res.status).toBe(200);
			return res.json();
		};
		const TURN_ON = { action: 'turn_on_two_step', href: '/account/security/two-step' };

		it('standard: hidden before proof; the signed-in owner sees it and the next step while two-step is off', async () => {
			const { email } = await member();
			const pub = await run(email, 'standard');
			expect(pub.tier).toBe('public');
			expect(pub.security).toBeUndefined();
			expect(pub.nextSteps).not.toContainEqual(TURN_ON);
			const jar = await browser(email);
			const owner = await run(email, 'standard', jar);
			expect(owner.tier).toBe('verified');
			expect(owner.security).toEqual({ twoStep: false, passkeys: 0, activeSessions: 1 });
			expect(owner.nextSteps).toContainEqual(TURN_ON);
			await browser(email);
			await turnOnTotp(jar);
			const on = await run(email, 'standard', jar);
			expect(on.security).toEqual({ twoStep: true, passkeys: 0, activeSessions: 2 });
			expect(on.nextSteps).not.toContainEqual(TURN_ON);
		});

		it('open: shown to anyone; strict: nothing before proof, shown to the owner', async () => {
			const { email } = await member();
			const anyone = await run(email, 'open');
			expect(anyone.security).toEqual({ twoStep: false, passkeys: 0, activeSessions: 0 });
			expect(anyone.nextSteps).toContainEqual(TURN_ON);
			const strict = await run(email, 'strict');
			expect(strict.security).toBeUndefined();
			expect(strict.nextSteps).toEqual([]);
			const jar = await browser(email);
			const owner = await run(email, 'strict', jar);
			expect(owner.security).toEqual({ twoStep: false, passkeys: 0, activeSessions: 1 });
			expect(owner.nextSteps).toContainEqual(TURN_ON);
		});

		it('an unknown identifier gets no security field in any mode', async () => {
			for (const mode of ['standard', 'open', 'strict']) {
				const body = await run(uniqueEmail('nobody'), mode);
				expect(body.security).toBeUndefined();
				expect(body.nextSteps).not.toContainEqual(TURN_ON);
			}
		});
	});

	it('integration: with two-step on, a new device’s alert is queued only after the second factor, and once', async () => {
		const { email } = await member();
		const first = await browser(email);
		const secret = await turnOnTotp(first);
		const alerts = () =>
			database.db
				.selectFrom('outbox')
				.select('id')
				.where('recipient', '=', email)
				.where('purpose', '=', 'new_device_sign_in')
				.execute();
		expect(await alerts()).toHaveLength(0);
		// A new device with the right password alone: no session, no alert.
		const stranger: CookieJar = new Map();
		const step1 = await callEndpoint(signIn, app, {
			json: { identifier: email, password: PASSWORD },
			jar: stranger,
			clientAddress: nextAddress()
		});
		expect(step1.status).toBe(202);
		expect(await alerts()).toHaveLength(0);
		// A wrong second factor: still none.
		const wrong = appCode(secret, app.clock) === '000000' ? '111111' : '000000';
		const bad = await callEndpoint(secondFactor, app, {
			json: { code: wrong },
			jar: stranger,
			clientAddress: nextAddress()
		});
		expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'code_invalid']);
		expect(await alerts()).toHaveLength(0);
		// The right code: the session starts and the alert is queued, once.
		const good = await callEndpoint(secondFactor, app, {
			json: { code: appCode(secret, app.clock) },
			jar: stranger,
			clientAddress: nextAddress()
		});
		expect(good.status).toBe(201);
		expect(await alerts()).toHaveLength(1);
		// The same device again (password, then the next code): known, no second alert.
		app.clock.advance(30_000);
		const again = await callEndpoint(signIn, app, {
			json: { identifier: email, password: PASSWORD },
			jar: stranger,
			clientAddress: nextAddress()
		});
		expect(again.status).toBe(202);
		const done = await callEndpoint(secondFactor, app, {
			json: { code: appCode(secret, app.clock) },
			jar: stranger,
			clientAddress: nextAddress()
		});
		expect(done.status).toBe(201);
		expect(await alerts()).toHaveLength(1);
		// The checkup shows the alert and the failed second step as recent events to look at.
		expect(item(await checkup(first), 'events')).toMatchObject({ done: false, count: 2 });
	});
});
