import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURE_LINK_LIFETIME_MS } from '../../src/lib/server/accounts';
import { NEW_DEVICE_ALERT_CAP } from '../../src/lib/server/accounts/new-device-alert';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as register } from '../../src/routes/api/v1/registrations/+server';
import { POST as confirmRegistration } from '../../src/routes/api/v1/registrations/confirm/+server';
import { POST as secure } from '../../src/routes/api/v1/secure-account/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { actions as securePage } from '../../src/routes/account/secure/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, testAppContext, type TestApp } from '../support/app-context';
import { latestCode, latestMessage, messageText } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueCnMobile, uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, passwordHashOf } from '../support/signed-in';

const NEW_PASSWORD = 'an entirely new long sentence';
const ORIGIN = 'https://shop.example';
const EDGE_WINDOWS =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

describe.each(testDatabases)('new-device sign-in alerts on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let passwordHash: string;
	beforeAll(async () => {
		({ database, app } = await openTestApp(open, { env: { ORIGIN } }));
		passwordHash = await passwordHashOf();
	});
	afterAll(() => database.dispose());

	const member = async (locale = 'en') =>
		(await insertMember(app, 'alerts', { account: { locale } })).email;
	const signInFrom = async (
		jar: CookieJar,
		email: string,
		clientAddress = '1.0.1.1',
		{ password = PASSWORD, status = 201 } = {}
	) => {
		const res = await callEndpoint(signIn, app, {
			json: { identifier: email, password },
			jar,
			clientAddress,
			headers: { 'user-agent': EDGE_WINDOWS }
		});
		expect(res.status).toBe(status);
		return res;
	};
	/** The owner finishes the reset the link started, with the code sent to the bound contact. */
	const finishReset = async (email: string, newPassword = NEW_PASSWORD) => {
		const code = await latestCode(database.db, email, 'password_reset');
		const reset = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword }
		});
		expect(reset.status).toBe(204);
	};
	const alerts = (email: string) =>
		database.db
			.selectFrom('outbox')
			.select(['id', 'purpose'])
			.where('recipient', '=', email)
			.where('purpose', '=', 'new_device_sign_in')
			.orderBy('created_at')
			.execute();
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const tokenIn = (text: string) => {
		const link = /https:\/\/\S+/.exec(text)?.[0];
		expect(link).toBeDefined();
		const url = new URL(link!);
		expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}/account/secure`);
		return url.searchParams.get('token')!;
	};
	/** A second device signs in; the alert it caused, and the link's token. */
	async function alertFor(email: string) {
		const first: CookieJar = new Map();
		await signInFrom(first, email);
		const stranger: CookieJar = new Map();
		await signInFrom(stranger, email, '1.0.1.9');
		const [alert] = await alerts(email);
		expect(alert).toBeDefined();
		const text = await messageText(database.db, alert!.id);
		return { first, stranger, text, token: tokenIn(text) };
	}

	it('a sign-in from a new device alerts the bound contact once: time, country, device and a link; known devices never', async () => {
		const email = await member();
		const laptop: CookieJar = new Map();
		await signInFrom(laptop, email);
		await signInFrom(laptop, email);
		expect(await alerts(email)).toEqual([]);

		const phone: CookieJar = new Map();
		await signInFrom(phone, email, '1.0.1.9');
		const sent = await alerts(email);
		expect(sent).toHaveLength(1);
		const text = await messageText(database.db, sent[0]!.id);
		expect(text).toContain('November 26, 2026');
		expect(text).toContain('12:00 PM UTC');
		expect(text).toContain('Country: China');
		expect(text).toContain('Device: Edge on Windows');
		tokenIn(text);

		await signInFrom(phone, email);
		await signInFrom(laptop, email);
		expect(await alerts(email)).toHaveLength(1);
		const events = await database.db
			.selectFrom('audit_events')
			.select('action')
			.where('action', '=', 'account.new_device_alerted')
			.execute();
		expect(events.length).toBeGreaterThanOrEqual(1);
	});

	it('the alert is in the account’s language', async () => {
		const email = await member('zh-CN');
		const { text } = await alertFor(email);
		expect(text).toContain('国家或地区：中国');
		expect(text).toContain('设备：Windows 上的 Edge');
		expect(text).toContain('2026年11月26日');
	});

	it('no alert for the device that registered the account', async () => {
		const email = uniqueEmail('registers');
		const jar: CookieJar = new Map();
		const started = await callEndpoint(register, app, {
			json: { identifier: email, password: PASSWORD, country: 'CN' },
			jar,
			clientAddress: '1.0.1.1'
		});
		expect(started.status).toBe(202);
		const code = await latestCode(database.db, email);
		const done = await callEndpoint(confirmRegistration, app, {
			json: { identifier: email, code, country: 'CN' },
			jar,
			clientAddress: '1.0.1.1'
		});
		expect(done.status).toBe(201);
		await signInFrom(jar, email);
		expect(await alerts(email)).toEqual([]);
		await signInFrom(new Map(), email);
		expect(await alerts(email)).toHaveLength(1);
	});

	it('"this wasn\'t me" works without a session, signs every session out and sends a reset code; only once', async () => {
		const email = await member();
		const { first, stranger, token } = await alertFor(email);
		// Only the token's SHA-256 is stored.
		const stored = await database.db.selectFrom('secure_account_tokens').select('id').execute();
		expect(stored.map((r) => r.id)).not.toContain(token);

		app.clock.advance(1_000); // so the reset code is the newest message, after the alert
		const res = await callEndpoint(secure, app, { json: { token }, jar: new Map() });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({
			contact: expect.stringContaining('***'),
			resetCodeSent: true
		});
		expect((await me(first)).status).toBe(401);
		expect((await me(stranger)).status).toBe(401);
		// R25: the link froze the account and told the bound contact so; the right password now
		// answers account_frozen.
		expect((await latestMessage(database.db, email, 'account_frozen')).text).not.toBe('');
		const frozen = await signInFrom(new Map(), email, '1.0.1.9', { status: 403 });
		expect((await frozen.json()).error.code).toBe('account_frozen');
		// Then the reset (R18) with the code sent to the bound contact lifts the freeze.
		await finishReset(email);
		await signInFrom(first, email, '1.0.1.1', { password: NEW_PASSWORD });

		const again = await callEndpoint(secure, app, { json: { token } });
		expect([again.status, (await again.json()).error.code]).toEqual([400, 'link_invalid']);
		const audit = await database.db
			.selectFrom('audit_events')
			.select('action')
			.where('action', '=', 'account.secured')
			.execute();
		expect(audit.length).toBeGreaterThanOrEqual(1);
	});

	it("§7a/R25: after \"this wasn't me\" the intruder's return is refused (frozen), and after the reset the owner's next browser alerts", async () => {
		const email = await member();
		const { first, stranger, token } = await alertFor(email);
		expect(await alerts(email)).toHaveLength(1);
		const res = await callEndpoint(secure, app, { json: { token }, jar: new Map() });
		expect(res.status).toBe(200);

		// The old password is right until the reset, but the account is frozen: no session.
		const refused = await signInFrom(stranger, email, '1.0.1.9', { status: 403 });
		expect((await refused.json()).error.code).toBe('account_frozen');
		expect(await alerts(email)).toHaveLength(1);
		// The reset lifts the freeze; the owner's own browser is then a new one as well, and says so.
		await finishReset(email);
		await signInFrom(first, email, '1.0.1.1', { password: NEW_PASSWORD });
		expect(await alerts(email)).toHaveLength(2);
		// Once known again, it does not alert a second time.
		await signInFrom(first, email, '1.0.1.1', { password: NEW_PASSWORD });
		expect(await alerts(email)).toHaveLength(2);
	});

	it('§7a: after "this wasn\'t me" and the reset, even a browser that never signed in before alerts on the first sign-in', async () => {
		const email = await member();
		const { token } = await alertFor(email);
		expect((await callEndpoint(secure, app, { json: { token }, jar: new Map() })).status).toBe(200);
		await finishReset(email);
		await signInFrom(new Map(), email, '1.0.1.7', { password: NEW_PASSWORD });
		expect(await alerts(email)).toHaveLength(2);
	});

	it('the link expires after 7 days', async () => {
		const email = await member();
		const { token } = await alertFor(email);
		app.clock.advance(SECURE_LINK_LIFETIME_MS);
		const res = await callEndpoint(secure, app, { json: { token } });
		expect([res.status, (await res.json()).error.code]).toEqual([410, 'link_expired']);
		// Nothing was used up or signed out by it.
		const owner = await database.db
			.selectFrom('accounts')
			.select('id')
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		const links = await database.db
			.selectFrom('secure_account_tokens')
			.select('used_at')
			.where('account_id', '=', owner.id)
			.execute();
		expect(links).toEqual([{ used_at: null }]);
		const secured = await database.db
			.selectFrom('audit_events')
			.select('id')
			.where('action', '=', 'account.secured')
			.where('subject_id', '=', owner.id)
			.execute();
		expect(secured).toEqual([]);
	});

	it('the secure page’s form action does the same with JavaScript off', async () => {
		const email = await member();
		const { first, stranger, token } = await alertFor(email);
		// Clicked in a browser of the account that is signed in: that session goes too, with its cookie.
		const result = await callEndpoint(securePage.secure!, app, {
			body: new URLSearchParams({ token }),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			jar: first
		});
		expect(result).toMatchObject({ step: 'code', identifier: email, codeSent: true });
		expect(first.has('session')).toBe(false);
		expect((await me(stranger)).status).toBe(401);
		const bad = await callEndpoint(securePage.secure!, app, {
			body: new URLSearchParams({ token: 'not-a-token' }),
			headers: { 'content-type': 'application/x-www-form-urlencoded' }
		});
		expect(bad).toMatchObject({ status: 400, data: { error: { code: 'link_invalid' } } });
	});

	it('production without ORIGIN: the alert never links to the Host a sign-in sent (reset poisoning)', async () => {
		const production = testAppContext(database, { env: { NODE_ENV: 'production' } });
		const email = await member();
		const forged = (jar: CookieJar, clientAddress: string) =>
			callEndpoint(signIn, production, {
				request: new Request('http://attacker.example/api/v1/sessions', {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'user-agent': EDGE_WINDOWS },
					body: JSON.stringify({ identifier: email, password: PASSWORD })
				}),
				jar,
				clientAddress
			});
		expect((await forged(new Map(), '1.0.1.1')).status).toBe(201);
		expect((await forged(new Map(), '1.0.1.9')).status).toBe(201);
		const [alert] = await alerts(email);
		const text = await messageText(database.db, alert!.id);
		expect(text).not.toContain('attacker.example');
		expect(text).toMatch(/ \/account\/secure\?token=[a-z0-9]+/);
	});
	it('§7a alert cap: 30 sign-ins from fresh browsers send at most 3 alerts (and 3 links); after the hour the next new device alerts again', async () => {
		const phone = uniqueCnMobile();
		const row = await insertAccount(database.db, {
			phone,
			email: null,
			password_hash: passwordHash
		});
		const browsers: CookieJar[] = [];
		for (let i = 0; i < 30; i++) {
			const jar: CookieJar = new Map();
			browsers.push(jar);
			await signInFrom(jar, phone, '203.0.113.50');
		}
		const links = () =>
			database.db
				.selectFrom('secure_account_tokens')
				.select('id')
				.where('account_id', '=', row.id)
				.execute();
		// The first browser is the account's first device (no alert); 29 new ones, 3 alerts.
		const sent = await alerts(phone);
		expect(sent).toHaveLength(NEW_DEVICE_ALERT_CAP.max);
		expect(await links()).toHaveLength(NEW_DEVICE_ALERT_CAP.max);
		// The last one says that more wait until the window ends (all three share one millisecond of
		// the test clock, so which row is last is not in the order of created_at).
		const texts = await Promise.all(sent.map((m) => messageText(database.db, m.id)));
		expect(texts.filter((t) => t.includes('Further new-device alerts paused until'))).toHaveLength(
			1
		);
		const held = await database.db
			.selectFrom('audit_events')
			.select('id')
			.where('subject_id', '=', row.id)
			.where('action', '=', 'account.new_device_alert_held')
			.execute();
		expect(held).toHaveLength(26);

		app.clock.advance(NEW_DEVICE_ALERT_CAP.windowMs);
		// A browser whose alert was held back is not a known device: it alerts now.
		await signInFrom(browsers[29]!, phone, '203.0.113.50');
		expect(await alerts(phone)).toHaveLength(4);
		await signInFrom(new Map(), phone, '203.0.113.50');
		expect(await alerts(phone)).toHaveLength(5);
		expect(await links()).toHaveLength(5);
	}, 60_000);
});
