import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import {
	DELETE as revokeOthers,
	GET as listSessions
} from '../../src/routes/api/v1/account/sessions/+server';
import { DELETE as revokeOne } from '../../src/routes/api/v1/account/sessions/[id]/+server';
import { actions, load } from '../../src/routes/account/security/sessions/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertMember, signedInBrowser } from '../support/signed-in';

const FIREFOX_WINDOWS =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

interface SessionJson {
	id: string;
	current: boolean;
	createdAt: string;
	lastSeenAt: string;
	country: string | null;
	device: string;
}

describe.each(testDatabases)('the owner’s sessions and devices on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open)));
	afterAll(() => database.dispose());

	const member = async () => (await insertMember(app, 'sessions')).email;
	/** A browser signed in as `email`: its own cookie jar, address and user agent. */
	const browser = (email: string, userAgent = FIREFOX_WINDOWS, clientAddress = '1.0.1.1') =>
		signedInBrowser(app, email, { userAgent, clientAddress });
	const list = async (jar: CookieJar, headers: Record<string, string> = {}) => {
		const res = await callEndpoint(listSessions, app, { method: 'GET', jar, headers });
		expect(res.status).toBe(200);
		return ((await res.json()) as { sessions: SessionJson[] }).sessions;
	};
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const deleteOne = (jar: CookieJar, id: string) =>
		callEndpoint(revokeOne, app, {
			method: 'DELETE',
			path: `/api/v1/account/sessions/${encodeURIComponent(id)}`,
			jar
		});

	it('lists live sessions with the current one flagged, device and country in words, never the token or its hash', async () => {
		const email = await member();
		const laptop = await browser(email, FIREFOX_WINDOWS, '1.0.1.1');
		app.clock.advance(5 * 60_000);
		const phone = await browser(email, SAFARI_IPHONE, '1.0.1.2');
		const sessions = await list(phone);
		expect(sessions).toHaveLength(2);
		expect(sessions.map((s) => [s.current, s.device])).toEqual([
			[true, 'Safari on iOS'],
			[false, 'Firefox on Windows']
		]);
		expect(sessions[0]!.country).toBe('CN'); // 1.0.1.0/24 is in China in the bundled database
		expect(Date.parse(sessions[1]!.createdAt)).toBe(app.clock.now().getTime() - 5 * 60_000);
		// The id is neither the cookie's token nor the row id (the token's SHA-256).
		const rows = await database.db.selectFrom('sessions').select('id').execute();
		const secrets = [laptop.get('session'), phone.get('session'), ...rows.map((r) => r.id)];
		const body = JSON.stringify(sessions);
		for (const secret of secrets) expect(body).not.toContain(secret);
		// In the request's language.
		const zh = await list(phone, { 'accept-language': 'zh-CN' });
		expect(zh.map((s) => s.device)).toEqual(['iOS 上的 Safari', 'Windows 上的 Firefox']);
	});

	it('needs a signed-in owner', async () => {
		for (const res of [
			await callEndpoint(listSessions, app, { method: 'GET' }),
			await callEndpoint(revokeOthers, app, { method: 'DELETE' }),
			await callEndpoint(revokeOne, app, {
				method: 'DELETE',
				path: '/api/v1/account/sessions/0123456789abcdef0123456789abcdef'
			})
		]) {
			expect(res.status).toBe(401);
			expect((await res.json()).error.code).toBe('unauthenticated');
		}
	});

	it('signing out one session makes its next request 401; the others stay', async () => {
		const email = await member();
		const laptop = await browser(email);
		const phone = await browser(email, SAFARI_IPHONE);
		const target = (await list(laptop)).find((s) => !s.current)!;
		expect((await deleteOne(laptop, target.id)).status).toBe(204);
		const after = await me(phone);
		expect([after.status, (await after.json()).error.code]).toEqual([401, 'unauthenticated']);
		expect((await me(laptop)).status).toBe(200);
		expect((await list(laptop)).map((s) => s.current)).toEqual([true]);
		// Signed out already: the same id is not found a second time.
		expect((await deleteOne(laptop, target.id)).status).toBe(404);
		const audit = await database.db
			.selectFrom('audit_events')
			.select(['action', 'details'])
			.where('action', '=', 'session.revoked')
			.orderBy('id', 'desc')
			.executeTakeFirstOrThrow();
		expect(JSON.parse(audit.details!)).toMatchObject({
			current: false,
			sessionDevice: 'Safari · iOS'
		});
	});

	it('signing out everywhere else keeps only the current session', async () => {
		const email = await member();
		const current = await browser(email);
		const others = [await browser(email), await browser(email, SAFARI_IPHONE)];
		expect((await callEndpoint(revokeOthers, app, { method: 'DELETE', jar: current })).status).toBe(
			204
		);
		for (const jar of others) expect((await me(jar)).status).toBe(401);
		expect((await me(current)).status).toBe(200);
		expect((await list(current)).map((s) => s.current)).toEqual([true]);
		const audit = await database.db
			.selectFrom('audit_events')
			.select('details')
			.where('action', '=', 'session.revoked_others')
			.orderBy('id', 'desc')
			.executeTakeFirstOrThrow();
		expect(JSON.parse(audit.details!)).toEqual({ count: 2 });
	});

	it('another account’s session id is not found, and that session lives on', async () => {
		const mallory = await browser(await member());
		const victimEmail = await member();
		const victim = await browser(victimEmail);
		const victimId = (await list(victim))[0]!.id;
		const res = await deleteOne(mallory, victimId);
		expect(res.status).toBe(404);
		expect((await res.json()).error.code).toBe('not_found');
		// Unknown ids answer the same.
		const unknown = await deleteOne(mallory, 'f'.repeat(32));
		expect([unknown.status, (await unknown.json()).error.code]).toEqual([404, 'not_found']);
		expect((await me(victim)).status).toBe(200);
		expect((await list(victim)).map((s) => s.id)).toEqual([victimId]);
	});

	it('signing out the current session by its id ends it and drops its cookie', async () => {
		const jar = await browser(await member());
		const [own] = await list(jar);
		expect((await deleteOne(jar, own!.id)).status).toBe(204);
		expect(jar.has('session')).toBe(false);
	});

	it('the page lists the sessions and its form actions sign out one and all others (no JavaScript needed)', async () => {
		const email = await member();
		const current = await browser(email);
		const phone = await browser(email, SAFARI_IPHONE);
		const tablet = await browser(email);
		const page = (await callEndpoint(load as never, app, {
			method: 'GET',
			path: '/account/security/sessions',
			jar: current
		})) as { sessions: SessionJson[] };
		expect(page.sessions).toHaveLength(3);
		const phoneId = page.sessions.find((s) => s.device === 'Safari on iOS')!.id;
		const form = new URLSearchParams({ id: phoneId });
		const one = await callEndpoint(actions.revoke!, app, {
			body: form,
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			jar: current
		});
		expect(one).toEqual({ done: 'revoked' });
		expect((await me(phone)).status).toBe(401);
		expect((await me(tablet)).status).toBe(200);
		const all = await callEndpoint(actions.revokeOthers!, app, {
			body: new URLSearchParams(),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			jar: current
		});
		expect(all).toEqual({ done: 'revokedOthers', count: 1 });
		expect((await me(tablet)).status).toBe(401);
		expect((await me(current)).status).toBe(200);
	});
});
