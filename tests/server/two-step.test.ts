import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import {
	DELETE as totpOff,
	POST as totpStart
} from '../../src/routes/api/v1/account/two-factor/totp/+server';
import { POST as totpConfirm } from '../../src/routes/api/v1/account/two-factor/totp/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as secondFactor } from '../../src/routes/api/v1/sessions/second-factor/+server';
import { POST as resetRequest } from '../../src/routes/api/v1/password-resets/+server';
import { POST as resetConfirm } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { actions as pageActions } from '../../src/routes/account/security/two-step/+page.server';
import { twoStepSummary } from '../../src/lib/server/two-step';
import { runRetention } from '../../src/lib/server/retention/tables';
import { rotateSealed } from '../../src/lib/server/core/key-rotation';
import { keyringFrom } from '../../src/lib/server/core/keys';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { latestCode } from '../support/codes';
import { uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';
import { appCode } from '../support/two-step';
import { setUpTotp } from '../support/totp-setup';

let address = 0;
const nextAddress = () => `1.0.2.${(address++ % 250) + 1}`;

describe.each(testDatabases)('two-step verification (TOTP) on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open)));
	afterAll(() => database.dispose());

	const member = () => insertMember(app, 'twostep', { joinedNow: true });
	const signInAs = (identifier: string, password: string, jar: CookieJar, ip = nextAddress()) =>
		callEndpoint(signIn, app, { json: { identifier, password }, jar, clientAddress: ip });
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const sendCode = (code: string, jar: CookieJar, ip = nextAddress()) =>
		callEndpoint(secondFactor, app, { json: { code }, jar, clientAddress: ip });

	/** A signed-in member with TOTP on: its secret and recovery codes. */
	async function memberWithTotp() {
		const person = await member();
		const jar = await signedInBrowser(app, person.email, { clientAddress: nextAddress() });
		return { ...person, jar, ...(await setUpTotp(app, jar)) };
	}

	it('set-up: the password, then a code → two-step on, ten recovery codes, the secret sealed at rest', async () => {
		const person = await memberWithTotp();
		expect(person.otpauthUri).toMatch(/^otpauth:\/\/totp\/Account%20Security%20Check:/);
		expect(person.otpauthUri).toContain(`secret=${person.secret}`);
		expect(person.otpauthUri).not.toContain(encodeURIComponent(person.email));
		expect(person.recoveryCodes).toHaveLength(10);
		expect(new Set(person.recoveryCodes).size).toBe(10);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: true, passkeys: 0 });
		// The owner sees it in the security activity.
		const view = (await (await me(person.jar)).json()) as { activity: { action: string }[] };
		expect(view.activity.map((a) => a.action)).toContain('account.two_step_on');
		const stored = await database.db
			.selectFrom('account_totp')
			.selectAll()
			.where('account_id', '=', person.id)
			.executeTakeFirstOrThrow();
		expect(stored.secret).not.toContain(person.secret);
		const codes = await database.db
			.selectFrom('recovery_codes')
			.select('code_hash')
			.where('account_id', '=', person.id)
			.execute();
		expect(codes).toHaveLength(10);
		for (const code of person.recoveryCodes)
			expect(codes.map((c) => c.code_hash).join(' ')).not.toContain(code.replace('-', ''));
	});

	it('key rotation re-seals TOTP secrets: after it the new key alone opens them and codes still work', async () => {
		const person = await memberWithTotp();
		const rotated = {
			...app,
			keys: keyringFrom([
				{ kid: 'next', key: Buffer.alloc(32, 9) },
				{ kid: 'test', key: Buffer.alloc(32, 7) }
			])
		};
		const result = await rotateSealed(rotated);
		expect(result.resealed['account_totp.secret']).toBeGreaterThanOrEqual(1);
		const { secret } = await database.db
			.selectFrom('account_totp')
			.select('secret')
			.where('account_id', '=', person.id)
			.executeTakeFirstOrThrow();
		expect(secret).toMatch(/^v1\.next\./);
		const newOnly = keyringFrom([{ kid: 'next', key: Buffer.alloc(32, 9) }]);
		const key = newOnly.open('account-totp', person.id, secret);
		expect(key.length).toBe(20);
		// Put the test ring's seal back for the other tests of this file.
		await rotateSealed({
			...app,
			keys: keyringFrom([
				{ kid: 'test', key: Buffer.alloc(32, 7) },
				{ kid: 'next', key: Buffer.alloc(32, 9) }
			])
		});
	});

	it('set-up refuses a wrong password (403) and a wrong code (400), and stores nothing on them', async () => {
		const person = await member();
		const jar: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, jar);
		const wrong = await callEndpoint(totpStart, app, {
			json: { currentPassword: 'not the password' },
			jar
		});
		expect([wrong.status, (await wrong.json()).error.code]).toEqual([403, 'invalid_credentials']);
		expect(
			await database.db
				.selectFrom('account_totp')
				.select('account_id')
				.where('account_id', '=', person.id)
				.execute()
		).toEqual([]);
		await callEndpoint(totpStart, app, { json: { currentPassword: PASSWORD }, jar });
		const bad = await callEndpoint(totpConfirm, app, { json: { code: '000000' }, jar });
		expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'code_invalid']);
		expect((await twoStepSummary(app, person.id)).twoStep).toBe(false);
		const anonymous = await callEndpoint(totpStart, app, {
			json: { currentPassword: PASSWORD },
			jar: new Map()
		});
		expect(anonymous.status).toBe(401);
	});

	it('two-step on: the password alone gives 202 and a pending cookie, no session; the pending cookie does not authenticate', async () => {
		const person = await memberWithTotp();
		const jar: CookieJar = new Map();
		const res = await signInAs(person.email, PASSWORD, jar);
		expect(res.status).toBe(202);
		expect(await res.json()).toEqual({
			secondFactor: { methods: ['totp', 'recovery_code'] }
		});
		expect(jar.has('session')).toBe(false);
		expect(jar.get('pending_sign_in')).toMatch(/^[a-z2-7]{32}$/);
		const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pending_sign_in='))!;
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Lax/i);
		expect((await me(jar)).status).toBe(401);
		// The pending cookie planted as a session cookie opens nothing either.
		expect((await me(new Map([['session', jar.get('pending_sign_in')!]]))).status).toBe(401);
		// Only its hash is stored.
		const rows = await database.db.selectFrom('pending_sign_ins').select('id').execute();
		expect(rows.map((r) => r.id)).not.toContain(jar.get('pending_sign_in'));
		// The second step finishes it: 201, a session, and the pending cookie is gone.
		const done = await sendCode(appCode(person.secret, app.clock), jar);
		expect(done.status).toBe(201);
		expect(jar.has('pending_sign_in')).toBe(false);
		expect((await me(jar)).status).toBe(200);
	});

	it('the security activity records a sign-in when the session starts: not after the password alone, once after the code', async () => {
		const person = await memberWithTotp();
		const signedIn = () =>
			database.db
				.selectFrom('audit_events')
				.select('details')
				.where('action', '=', 'session.signed_in')
				.where('subject_id', '=', person.id)
				.execute();
		const before = (await signedIn()).length;
		const jar: CookieJar = new Map();
		expect((await signInAs(person.email, PASSWORD, jar)).status).toBe(202);
		expect(await signedIn()).toHaveLength(before);
		expect((await sendCode(appCode(person.secret, app.clock), jar)).status).toBe(201);
		const rows = await signedIn();
		expect(rows).toHaveLength(before + 1);
		expect(JSON.parse(String(rows.at(-1)!.details))).toMatchObject({ method: 'totp' });
	});

	it('a TOTP code works once: the same code again (a replay) is refused', async () => {
		const person = await memberWithTotp();
		const code = appCode(person.secret, app.clock);
		const first: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, first);
		expect((await sendCode(code, first)).status).toBe(201);
		const second: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, second);
		const replay = await sendCode(code, second);
		expect([replay.status, (await replay.json()).error.code]).toEqual([400, 'code_invalid']);
		expect(second.has('session')).toBe(false);
		// An older step's code (accepted window) is refused too once a later one was used.
		const older = await sendCode(appCode(person.secret, app.clock, -1), second);
		expect(older.status).toBe(400);
	});

	it('§7a a wrong code at the second step, at set-up and when turning off names the app and recovery codes, not a message', async () => {
		const person = await memberWithTotp();
		const jar: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, jar);
		const atSignIn = (await (await sendCode('000000', jar)).json()).error;
		expect(atSignIn.code).toBe('code_invalid');
		expect(atSignIn.message).toMatch(/authenticator app, or one of your recovery codes/);
		const turningOff = await callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: PASSWORD, code: '000000' },
			jar: person.jar
		});
		const offError = (await turningOff.json()).error;
		expect(offError.message).toMatch(/authenticator app, or one of your recovery codes/);
		const fresh = await member();
		const freshJar: CookieJar = new Map();
		await signInAs(fresh.email, PASSWORD, freshJar);
		await callEndpoint(totpStart, app, { json: { currentPassword: PASSWORD }, jar: freshJar });
		const setup = (
			await (
				await callEndpoint(totpConfirm, app, { json: { code: '000000' }, jar: freshJar })
			).json()
		).error;
		expect(setup.message).toMatch(/authenticator app shows now/);
		for (const message of [atSignIn.message, offError.message, setup.message])
			expect(message).not.toMatch(/message we sent/);
	});

	it('§7a new recovery codes: the password first; then the old set dies and the new one works', async () => {
		const person = await memberWithTotp();
		const regenerate = (fields: Record<string, string>) =>
			callEndpoint(pageActions.regenerate!, app, {
				path: '/account/security/two-step?/regenerate',
				body: new URLSearchParams(fields),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				jar: person.jar
			});
		expect(await regenerate({ currentPassword: 'not the password' })).toMatchObject({
			status: 403,
			data: { error: { code: 'invalid_credentials' } }
		});
		const fresh = (await regenerate({ currentPassword: PASSWORD })) as { recoveryCodes: string[] };
		expect(fresh.recoveryCodes).toHaveLength(10);
		expect(fresh.recoveryCodes).not.toContain(person.recoveryCodes[0]);
		const jar: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, jar);
		const old = await sendCode(person.recoveryCodes[0]!, jar);
		expect([old.status, (await old.json()).error.code]).toEqual([400, 'code_invalid']);
		expect((await sendCode(fresh.recoveryCodes[0]!, jar)).status).toBe(201);
	});

	it('a recovery code works once', async () => {
		const person = await memberWithTotp();
		const [code] = person.recoveryCodes;
		const first: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, first);
		expect((await sendCode(code!.toUpperCase(), first)).status).toBe(201);
		const second: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, second);
		const again = await sendCode(code!, second);
		expect([again.status, (await again.json()).error.code]).toEqual([400, 'code_invalid']);
		expect((await sendCode(person.recoveryCodes[1]!, second)).status).toBe(201);
	});

	it('a pending sign-in expires after 5 minutes and finishes at most once', async () => {
		const person = await memberWithTotp();
		const jar: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, jar);
		app.clock.advance(5 * 60_000 + 1);
		const late = await sendCode(appCode(person.secret, app.clock), jar);
		expect([late.status, (await late.json()).error.code]).toEqual([401, 'second_factor_expired']);
		const none = await sendCode(appCode(person.secret, app.clock), new Map());
		expect([none.status, (await none.json()).error.code]).toEqual([401, 'second_factor_expired']);
	});

	it('a second-factor brute force is throttled per account, from any address (429 with Retry-After)', async () => {
		const person = await memberWithTotp();
		const jar: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, jar);
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) {
			const res = await sendCode(String(100000 + i), jar, nextAddress());
			statuses.push(res.status);
			if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
		}
		expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
		expect(statuses.slice(5)).toEqual([429, 429, 429]);
		const failed = await database.db
			.selectFrom('audit_events')
			.select('action')
			.where('subject_id', '=', person.id)
			.where('action', '=', 'session.second_factor_failed')
			.execute();
		expect(failed).toHaveLength(5);
		// Even the right code waits out the delay, so guessing cannot race it.
		const right = await sendCode(appCode(person.secret, app.clock), jar, nextAddress());
		expect(right.status).toBe(429);
		app.clock.advance(16_000);
		expect((await sendCode(appCode(person.secret, app.clock), jar, nextAddress())).status).toBe(
			201
		);
	});

	it('a wrong password answers byte-for-byte as without two-step', async () => {
		const on = await memberWithTotp();
		const off = await member();
		const ip = nextAddress();
		// One browser (its device cookie) and one address for both, so only two-step differs.
		// The device cookie is set lazily (docs/BENCHMARKS.md), by the first request that needs one: a
		// sign-in. Without it each answer below would set a fresh one and differ.
		const browser: CookieJar = new Map();
		await signInAs(uniqueEmail('warmup'), 'not the password', browser, ip);
		expect(browser.has('device')).toBe(true);
		const withTotp = await signInAs(on.email, 'not the password', new Map(browser), ip);
		const without = await signInAs(off.email, 'not the password', new Map(browser), ip);
		const headers = (response: Response) =>
			[...response.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date');
		expect(withTotp.status).toBe(401);
		expect(without.status).toBe(401);
		expect(headers(withTotp)).toEqual(headers(without));
		expect(await withTotp.text()).toBe(await without.text());
	});

	it('R18: a password reset keeps two-step: sign-in with the new password still asks for the second factor', async () => {
		const person = await memberWithTotp();
		const ip = nextAddress();
		expect(
			(
				await callEndpoint(resetRequest, app, {
					json: { identifier: person.email },
					clientAddress: ip
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, person.email);
		const newPassword = 'a different and longer river';
		const confirmed = await callEndpoint(resetConfirm, app, {
			json: { identifier: person.email, code, newPassword },
			clientAddress: ip
		});
		expect(confirmed.status).toBe(204);
		const jar: CookieJar = new Map();
		const res = await signInAs(person.email, newPassword, jar);
		expect(res.status).toBe(202);
		expect(jar.has('session')).toBe(false);
		expect((await sendCode(appCode(person.secret, app.clock), jar)).status).toBe(201);
	});

	it('turning TOTP off takes the password and a code; then the password alone signs in again', async () => {
		const person = await memberWithTotp();
		const noCode = await callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: PASSWORD, code: '000000' },
			jar: person.jar
		});
		expect([noCode.status, (await noCode.json()).error.code]).toEqual([400, 'code_invalid']);
		const noPassword = await callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: 'wrong password here', code: appCode(person.secret, app.clock) },
			jar: person.jar
		});
		expect(noPassword.status).toBe(403);
		const off = await callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: PASSWORD, code: appCode(person.secret, app.clock) },
			jar: person.jar
		});
		expect(off.status).toBe(204);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: false, passkeys: 0 });
		expect(
			await database.db
				.selectFrom('recovery_codes')
				.select('code_hash')
				.where('account_id', '=', person.id)
				.execute()
		).toEqual([]);
		expect((await signInAs(person.email, PASSWORD, new Map())).status).toBe(201);
	});

	const turnOff = (jar: CookieJar, code: string, ip = nextAddress()) =>
		callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: PASSWORD, code },
			jar,
			clientAddress: ip
		});

	it('turning TOTP off: wrong codes with the right password meet the second step’s delays (429 with Retry-After after the same number)', async () => {
		// The second step's own sequence, for comparison.
		const other = await memberWithTotp();
		const pending: CookieJar = new Map();
		await signInAs(other.email, PASSWORD, pending);
		const atSignIn: number[] = [];
		for (let i = 0; i < 8; i++)
			atSignIn.push((await sendCode(String(200000 + i), pending, nextAddress())).status);

		const person = await memberWithTotp();
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) {
			const res = await turnOff(person.jar, String(200000 + i));
			statuses.push(res.status);
			if (res.status === 429) {
				expect((await res.json()).error.code).toBe('rate_limited');
				expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
			}
		}
		expect(statuses).toEqual(atSignIn);
		expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
		// The right code waits out the delay too; then it turns TOTP off.
		expect((await turnOff(person.jar, appCode(person.secret, app.clock))).status).toBe(429);
		app.clock.advance(16_000);
		expect((await turnOff(person.jar, appCode(person.secret, app.clock))).status).toBe(204);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: false, passkeys: 0 });
	});

	it('turning TOTP off: wrong codes sent at once meet the same delays, and add up with the second step’s guesses', async () => {
		const person = await memberWithTotp();
		// Three wrong guesses at the sign-in's second step first.
		const pending: CookieJar = new Map();
		await signInAs(person.email, PASSWORD, pending);
		for (let i = 0; i < 3; i++)
			expect((await sendCode(String(300000 + i), pending, nextAddress())).status).toBe(400);
		// Then ten at once at "turn off", each from its own address, the password right.
		const answers = await Promise.all(
			Array.from({ length: 10 }, (_, i) => turnOff(person.jar, String(310000 + i)))
		);
		const evaluated = answers.filter((r) => r.status === 400);
		// The 4th failure is free, the 5th starts the delay: two more are checked, no more.
		expect(evaluated.length).toBe(2);
		for (const waited of answers.filter((answer) => answer.status !== 400)) {
			expect([waited.status, (await waited.json()).error.code]).toEqual([429, 'rate_limited']);
			expect(Number(waited.headers.get('retry-after'))).toBeGreaterThan(0);
		}
		// And the sign-in's second step now waits as well: one counter for both paths.
		expect((await sendCode(appCode(person.secret, app.clock), pending, nextAddress())).status).toBe(
			429
		);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: true, passkeys: 0 });
	});

	it('retention: expired pending sign-ins and an abandoned set-up go; a confirmed TOTP and its codes stay', async () => {
		const kept = await memberWithTotp();
		const abandoned = await member();
		const jar: CookieJar = new Map();
		await signInAs(abandoned.email, PASSWORD, jar);
		await callEndpoint(totpStart, app, { json: { currentPassword: PASSWORD }, jar });
		await signInAs(kept.email, PASSWORD, new Map());
		app.clock.advance(25 * 3_600_000);
		const result = await runRetention(app);
		expect(result.skipped).toBe(false);
		const count = async (table: 'pending_sign_ins' | 'account_totp' | 'recovery_codes') =>
			(await database.db.selectFrom(table).select('account_id').execute()).map((r) => r.account_id);
		expect(await count('pending_sign_ins')).toEqual([]);
		expect(await count('account_totp')).toContain(kept.id);
		expect(await count('account_totp')).not.toContain(abandoned.id);
		expect((await count('recovery_codes')).filter((id) => id === kept.id)).toHaveLength(10);
	});
});
