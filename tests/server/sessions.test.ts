import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as firstOrder } from '../../src/routes/api/v1/internal/accounts/first-order/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { DELETE as signOut } from '../../src/routes/api/v1/sessions/current/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD } from '../support/signed-in';

const TOKEN = 'internal-token-0123456789abcdef0123456789';

describe.each(testDatabases)('sign-in and sessions on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(
		async () =>
			({ database, app } = await openTestApp(open, { env: { INTERNAL_API_TOKEN: TOKEN } }))
	);
	afterAll(() => database.dispose());

	const member = async () => (await insertMember(app, 'buyer', { joinedNow: true })).email;
	const signInAs = (
		identifier: string,
		password: string,
		jar: CookieJar = new Map(),
		clientAddress = '1.0.1.1'
	) => callEndpoint(signIn, app, { json: { identifier, password }, jar, clientAddress });
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });

	it('signs in, reads the account, signs out', async () => {
		const jar: CookieJar = new Map();
		const res = await signInAs(await member(), PASSWORD, jar);
		expect(res.status).toBe(201);
		expect((await me(jar)).status).toBe(200);
		expect((await callEndpoint(signOut, app, { method: 'DELETE', jar })).status).toBe(204);
		expect(jar.has('session')).toBe(false);
		const after = await me(jar);
		expect([after.status, (await after.json()).error.code]).toEqual([401, 'unauthenticated']);
	});

	it('a wrong password and an unknown identifier get the same answer', async () => {
		const wrong = await signInAs(await member(), 'not the password');
		const unknown = await signInAs(uniqueEmail(), 'not the password');
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		expect(await wrong.json()).toEqual(await unknown.json());
	});

	it('a token stolen from the database is useless: only its SHA-256 is stored', async () => {
		const jar: CookieJar = new Map();
		await signInAs(await member(), PASSWORD, jar);
		const token = jar.get('session')!;
		const stored = await database.db.selectFrom('sessions').select('id').execute();
		expect(stored.map((s) => s.id)).not.toContain(token);
		expect(await me(new Map([['session', stored[0]!.id]]))).toHaveProperty('status', 401);
	});

	it('a session planted before sign-in is not kept', async () => {
		const jar: CookieJar = new Map();
		const email = await member();
		await signInAs(email, PASSWORD, jar);
		const planted = jar.get('session')!;
		await signInAs(email, PASSWORD, jar);
		expect(jar.get('session')).not.toBe(planted);
		expect((await me(new Map([['session', planted]]))).status).toBe(401);
	});

	it('sessions die after 24 h idle and 14 days in all', async () => {
		const jar: CookieJar = new Map();
		await signInAs(await member(), PASSWORD, jar);
		app.clock.advance(23 * 3_600_000);
		expect((await me(jar)).status).toBe(200);
		app.clock.advance(23 * 3_600_000);
		expect((await me(jar)).status).toBe(200);
		app.clock.advance(24 * 3_600_000);
		expect((await me(jar)).status).toBe(401);

		const active: CookieJar = new Map();
		await signInAs(await member(), PASSWORD, active);
		for (let day = 1; day <= 14; day++) {
			app.clock.advance(86_400_000 - 1);
			expect((await me(active)).status).toBe(200);
		}
		app.clock.advance(14);
		expect((await me(active)).status).toBe(401);
	});

	it('repeated failures are throttled per identifier with growing delays and Retry-After', async () => {
		const email = await member();
		for (let attempt = 0; attempt < 5; attempt++)
			expect((await signInAs(email, 'wrong guess', new Map(), `8.8.4.${attempt}`)).status).toBe(
				401
			);
		const blocked = await signInAs(email, PASSWORD, new Map(), '8.8.4.200');
		expect(blocked.status).toBe(429);
		expect(blocked.headers.get('retry-after')).toBe('15');
		expect((await blocked.json()).error.code).toBe('rate_limited');
		app.clock.advance(15_000);
		expect((await signInAs(email, 'wrong again', new Map(), '8.8.4.201')).status).toBe(401);
		const longer = await signInAs(email, PASSWORD, new Map(), '8.8.4.202');
		expect(longer.headers.get('retry-after')).toBe('30');
		app.clock.advance(30_000);
		expect((await signInAs(email, PASSWORD, new Map(), '8.8.4.203')).status).toBe(201);
	});

	it('unknown identifiers are throttled exactly like registered ones', async () => {
		const ghost = uniqueEmail();
		for (let attempt = 0; attempt < 5; attempt++)
			await signInAs(ghost, 'wrong guess', new Map(), `9.9.9.${attempt}`);
		const blocked = await signInAs(ghost, 'wrong guess', new Map(), '9.9.9.200');
		expect([blocked.status, blocked.headers.get('retry-after')]).toEqual([429, '15']);
	});

	it('R11: low activity after 72 h without a first paid order, cleared by the order system', async () => {
		const email = await member();
		app.clock.advance(72 * 3_600_000 - 1);
		const jar: CookieJar = new Map();
		await signInAs(email, PASSWORD, jar);
		expect((await (await me(jar)).json()).flags).toEqual([]);
		app.clock.advance(1);
		expect((await (await me(jar)).json()).flags).toEqual([{ code: 'low_activity' }]);

		const noToken = await callEndpoint(firstOrder, app, { json: { identifier: email } });
		expect(noToken.status).toBe(401);
		const badToken = await callEndpoint(firstOrder, app, {
			json: { identifier: email },
			headers: { authorization: 'Bearer nope' }
		});
		expect(badToken.status).toBe(401);
		const ok = await callEndpoint(firstOrder, app, {
			json: { identifier: email },
			headers: { authorization: `Bearer ${TOKEN}` }
		});
		expect(ok.status).toBe(204);
		expect((await (await me(jar)).json()).flags).toEqual([]);
	});
});
