import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/lib/server/core/tokens';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as registerOptions } from '../../src/routes/api/v1/account/two-factor/passkeys/options/+server';
import { POST as register } from '../../src/routes/api/v1/account/two-factor/passkeys/+server';
import { DELETE as removePasskey } from '../../src/routes/api/v1/account/two-factor/passkeys/[id]/+server';
import { DELETE as totpOff } from '../../src/routes/api/v1/account/two-factor/totp/+server';
import { POST as resetConfirm } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as secure } from '../../src/routes/api/v1/secure-account/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as secondFactor } from '../../src/routes/api/v1/sessions/second-factor/+server';
import { POST as passkeyOptions } from '../../src/routes/api/v1/sessions/passkey/options/+server';
import { POST as passkeySignIn } from '../../src/routes/api/v1/sessions/passkey/+server';
import { actions as securePage } from '../../src/routes/account/secure/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { latestCode, messageText } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { appCode, softAuthenticator, type SoftAuthenticator } from '../support/two-step';
import { setUpTotp } from '../support/totp-setup';

/**
 * Rules §7a: a second factor added or removed is told to the owner with a "this wasn't me" link,
 * and that link (or a new-device alert's) takes back every factor added since it was sent. The
 * scenario a trust review found: an intruder with the stolen password signs in (the owner is
 * alerted), adds a passkey of their own, and after the owner's whole remedy — the link, which
 * freezes, and the reset that lifts it — the intruder's passkey alone still signed in.
 */
const NEW_PASSWORD = 'an entirely new long sentence';
const ORIGIN = 'https://asc.example';
const INTRUDER_IP = '203.0.113.9';
const OWNER_IP = '198.51.100.1';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
type Options = { challenge: string; rp: { id?: string }; rpId?: string };
/** Where the two-step changes below are made from (an address the test GeoIP reads as China). */
const FROM = { clientAddress: '1.0.1.20', headers: { 'user-agent': FIREFOX_LINUX } };

describe.each(testDatabases)('§7a two-step notices and "this wasn\'t me" on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open, { env: { ORIGIN } })));
	afterAll(() => database.dispose());

	/** An account whose owner has signed in once (its first device), so the next browser alerts. */
	const owner = () =>
		signedInMember(app, 'notices', {
			joinedNow: true,
			clientAddress: OWNER_IP,
			userAgent: FIREFOX_LINUX
		});
	const signInFrom = (jar: CookieJar, email: string, ip: string, password = PASSWORD) =>
		callEndpoint(signIn, app, {
			json: { identifier: email, password },
			jar,
			clientAddress: ip,
			headers: { 'user-agent': FIREFOX_LINUX }
		});
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const messages = (email: string, purpose: string) =>
		database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', email)
			.where('purpose', '=', purpose)
			.orderBy('created_at')
			.orderBy('id')
			.execute();
	/** The "this wasn't me" token in a message, after checking the link is on ORIGIN. */
	const tokenIn = (text: string) => {
		const link = /https:\/\/\S+/.exec(text)?.[0];
		expect(link).toBeDefined();
		const url = new URL(link!);
		expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}/account/secure`);
		return url.searchParams.get('token')!;
	};
	const onlyMessage = async (email: string, purpose: string) => {
		const rows = await messages(email, purpose);
		expect(rows).toHaveLength(1);
		return messageText(database.db, rows[0]!.id);
	};
	async function addPasskey(jar: CookieJar, key: SoftAuthenticator) {
		const options = await callEndpoint(registerOptions, app, {
			json: { currentPassword: PASSWORD },
			jar,
			...FROM
		});
		expect(options.status).toBe(200);
		const response = key.register((await options.json()) as Options, ORIGIN);
		const added = await callEndpoint(register, app, {
			json: { response, name: 'Key' },
			jar,
			...FROM
		});
		expect(added.status).toBe(201);
	}
	const turnOnTotp = async (jar: CookieJar) => (await setUpTotp(app, jar, FROM)).secret;
	/** The owner's remedy: the link, then the reset it started, finished with the code sent. */
	async function secureAndReset(email: string, token: string) {
		expect((await callEndpoint(secure, app, { json: { token }, jar: new Map() })).status).toBe(200);
		const code = await latestCode(database.db, email, 'password_reset');
		const reset = await callEndpoint(resetConfirm, app, {
			json: { identifier: email, code, newPassword: NEW_PASSWORD },
			clientAddress: OWNER_IP
		});
		expect(reset.status).toBe(204);
	}
	/** A passkey as the whole sign-in, from a fresh browser: the status, and whether it signed in. */
	async function passkeyAlone(key: SoftAuthenticator) {
		const jar: CookieJar = new Map();
		const options = await callEndpoint(passkeyOptions, app, {
			json: {},
			jar,
			clientAddress: INTRUDER_IP
		});
		const assertion = key.assert((await options.json()) as Options, ORIGIN);
		const res = await callEndpoint(passkeySignIn, app, {
			json: { response: assertion },
			jar,
			clientAddress: INTRUDER_IP
		});
		return { status: res.status, signedIn: (await me(jar)).status === 200 };
	}
	const passkeyIds = async (accountId: string) =>
		(
			await database.db
				.selectFrom('passkeys')
				.select('id')
				.where('account_id', '=', accountId)
				.execute()
		).map((p) => p.id);

	it('§7a: after "this wasn\'t me" from the new-device alert and a finished reset, the intruder’s own passkey no longer signs in', async () => {
		const person = await owner();
		const intruder: CookieJar = new Map();
		expect((await signInFrom(intruder, person.email, INTRUDER_IP)).status).toBe(201);
		const alert = await onlyMessage(person.email, 'new_device_sign_in');
		app.clock.advance(60_000);
		const key = softAuthenticator();
		await addPasskey(intruder, key);
		// Before the remedy the passkey works alone (the attack the review found).
		expect(await passkeyAlone(key)).toMatchObject({ status: 201, signedIn: true });

		await secureAndReset(person.email, tokenIn(alert));
		expect((await me(intruder)).status).toBe(401);
		const back = await passkeyAlone(key);
		expect(back.status).not.toBe(201);
		expect(back.signedIn).toBe(false);
		expect(await passkeyIds(person.id)).toEqual([]);
		const undone = await database.db
			.selectFrom('audit_events')
			.select('details')
			.where('subject_id', '=', person.id)
			.where('action', '=', 'account.two_step_undone')
			.executeTakeFirstOrThrow();
		expect(JSON.parse(undone.details!)).toMatchObject({ passkeysRemoved: 1, totpRemoved: false });
	});

	it('§7a: the passkey notice’s own link takes that passkey back', async () => {
		const person = await owner();
		const key = softAuthenticator();
		await addPasskey(person.jar, key);
		const notice = await onlyMessage(person.email, 'two_step_changed');
		app.clock.advance(5_000);
		await secureAndReset(person.email, tokenIn(notice));
		expect(await passkeyIds(person.id)).toEqual([]);
		expect((await passkeyAlone(key)).signedIn).toBe(false);
	});

	it('§7a: a TOTP the intruder turned on after the alert is gone after the link: the owner signs in after the reset with no second step', async () => {
		const person = await owner();
		const intruder: CookieJar = new Map();
		expect((await signInFrom(intruder, person.email, INTRUDER_IP)).status).toBe(201);
		const alert = await onlyMessage(person.email, 'new_device_sign_in');
		app.clock.advance(60_000);
		await turnOnTotp(intruder);
		// Before the remedy the owner's right password only reaches the second step they cannot pass.
		expect((await signInFrom(new Map(), person.email, OWNER_IP)).status).toBe(202);

		await secureAndReset(person.email, tokenIn(alert));
		const jar: CookieJar = new Map();
		expect((await signInFrom(jar, person.email, OWNER_IP, NEW_PASSWORD)).status).toBe(201);
		expect((await me(jar)).status).toBe(200);
		for (const table of ['account_totp', 'recovery_codes'] as const)
			expect(
				await database.db
					.selectFrom(table)
					.select('account_id')
					.where('account_id', '=', person.id)
					.execute()
			).toEqual([]);
	});

	it('§7a/R18: a TOTP and a passkey the owner had before the alert stay; one added after it goes', async () => {
		const person = await owner();
		const secret = await turnOnTotp(person.jar);
		const ownKey = softAuthenticator();
		await addPasskey(person.jar, ownKey);
		app.clock.advance(60_000);
		// A new browser passes both steps: the alert is sent when its session starts.
		const other: CookieJar = new Map();
		expect((await signInFrom(other, person.email, INTRUDER_IP)).status).toBe(202);
		const finished = await callEndpoint(secondFactor, app, {
			json: { code: appCode(secret, app.clock) },
			jar: other,
			clientAddress: INTRUDER_IP
		});
		expect(finished.status).toBe(201);
		const alert = await onlyMessage(person.email, 'new_device_sign_in');
		app.clock.advance(60_000);
		const laterKey = softAuthenticator();
		await addPasskey(other, laterKey);

		await secureAndReset(person.email, tokenIn(alert));
		expect(await passkeyIds(person.id)).toEqual([ownKey.credentialId]);
		app.clock.advance(30_000);
		expect((await signInFrom(new Map(), person.email, OWNER_IP, NEW_PASSWORD)).status).toBe(202);
		expect((await passkeyAlone(ownKey)).signedIn).toBe(true);
		expect((await passkeyAlone(laterKey)).signedIn).toBe(false);
	});

	it('§7a: each passkey added or removed and TOTP turned on or off sends exactly one notice: when, where, what, and a working link on ORIGIN', async () => {
		const person = await owner();
		const notices = async () => {
			const rows = await messages(person.email, 'two_step_changed');
			return Promise.all(rows.map((r) => messageText(database.db, r.id)));
		};
		const key = softAuthenticator();
		await addPasskey(person.jar, key);
		expect(await notices()).toHaveLength(1);
		app.clock.advance(1_000);
		const removed = await callEndpoint(removePasskey, app, {
			method: 'DELETE',
			path: `/api/v1/account/two-factor/passkeys/${key.credentialId}`,
			json: { currentPassword: PASSWORD },
			jar: person.jar,
			...FROM
		});
		expect(removed.status).toBe(204);
		expect(await notices()).toHaveLength(2);
		app.clock.advance(1_000);
		const secret = await turnOnTotp(person.jar);
		expect(await notices()).toHaveLength(3);
		const off = await callEndpoint(totpOff, app, {
			method: 'DELETE',
			json: { currentPassword: PASSWORD, code: appCode(secret, app.clock) },
			jar: person.jar,
			...FROM
		});
		expect(off.status).toBe(204);
		const texts = await notices();
		expect(texts).toHaveLength(4);
		expect(texts[0]).toContain('A passkey was added');
		expect(texts[1]).toContain('A passkey was removed');
		expect(texts[2]).toContain('authenticator app was turned on');
		expect(texts[3]).toContain('authenticator app was turned off');
		const tokens = texts.map(tokenIn);
		for (const text of texts) {
			expect(text).toContain('Country: China');
			expect(text).toContain('Device: Firefox on Linux');
			expect(text).toMatch(/UTC/);
		}
		// One unused link row per notice, and the last one works.
		for (const token of tokens) {
			const row = await database.db
				.selectFrom('secure_account_tokens')
				.select(['account_id', 'used_at'])
				.where('id', '=', hashToken(token))
				.executeTakeFirstOrThrow();
			expect(row).toEqual({ account_id: person.id, used_at: null });
		}
		const used = await callEndpoint(secure, app, { json: { token: tokens[3]! }, jar: new Map() });
		expect(used.status).toBe(200);
		expect((await me(person.jar)).status).toBe(401);
	});

	it('§7a: a notice is in the account’s language', async () => {
		const { email, jar } = await signedInMember(app, 'notices-zh', {
			joinedNow: true,
			account: { locale: 'zh-CN' },
			clientAddress: OWNER_IP,
			userAgent: FIREFOX_LINUX
		});
		await addPasskey(jar, softAuthenticator());
		const text = await onlyMessage(email, 'two_step_changed');
		expect(text).toContain('添加了一个通行密钥');
		expect(text).toContain('Linux 上的 Firefox');
		tokenIn(text);
	});
	it('§7a: the secure page (JavaScript off) says when factors added since the message were removed, and not otherwise', async () => {
		const person = await owner();
		const intruder: CookieJar = new Map();
		expect((await signInFrom(intruder, person.email, INTRUDER_IP)).status).toBe(201);
		const alert = await onlyMessage(person.email, 'new_device_sign_in');
		await addPasskey(intruder, softAuthenticator());
		const press = (token: string) =>
			callEndpoint(securePage.secure!, app, {
				body: new URLSearchParams({ token }),
				headers: { 'content-type': 'application/x-www-form-urlencoded' }
			});
		expect(await press(tokenIn(alert))).toMatchObject({ step: 'code', twoStepRemoved: true });

		const other = await owner();
		const stranger: CookieJar = new Map();
		expect((await signInFrom(stranger, other.email, INTRUDER_IP)).status).toBe(201);
		const plain = await onlyMessage(other.email, 'new_device_sign_in');
		expect(await press(tokenIn(plain))).toMatchObject({ step: 'code', twoStepRemoved: false });
	});
});
