import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as changePassword } from '../../src/routes/api/v1/account/password/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { actions } from '../../src/routes/account/security/password/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { latestMessage } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';

const NEW_PASSWORD = 'quiet orchards under winter stars';

describe.each(testDatabases)('R5 password change on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open)));
	afterAll(() => database.dispose());

	const member = async () => (await insertMember(app, 'change')).email;
	const browser = (email: string, password = PASSWORD) => signedInBrowser(app, email, { password });
	const change = (jar: CookieJar, currentPassword: string, newPassword = NEW_PASSWORD) =>
		callEndpoint(changePassword, app, { json: { currentPassword, newPassword }, jar });
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });

	it('changes the password: 204, other sessions signed out, this one kept, the change time recorded, the owner told', async () => {
		const email = await member();
		const other = await browser(email);
		const current = await browser(email);
		app.clock.advance(60_000);
		const res = await change(current, PASSWORD);
		expect(res.status).toBe(204);
		expect((await me(other)).status).toBe(401);
		expect((await me(current)).status).toBe(200);
		const row = await database.db
			.selectFrom('accounts')
			.select('password_changed_at')
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		expect(Number(row.password_changed_at)).toBe(app.clock.now().getTime());
		expect((await latestMessage(database.db, email)).purpose).toBe('password_changed');
		const old = await callEndpoint(signIn, app, {
			json: { identifier: email, password: PASSWORD }
		});
		expect(old.status).toBe(401);
		await browser(email, NEW_PASSWORD);
	});

	it('R5: "changing" to the same password answers 400 same_password on the field: no session ends, no message, nothing recorded', async () => {
		const email = await member();
		const other = await browser(email);
		const jar = await browser(email);
		const messages = async () =>
			(await database.db.selectFrom('outbox').select('id').where('recipient', '=', email).execute())
				.length;
		const before = await messages();
		const res = await change(jar, PASSWORD, PASSWORD);
		expect(res.status).toBe(400);
		const body = await res.json();
		expect(body.error.code).toBe('same_password');
		expect(Object.keys(body.error.fields)).toEqual(['newPassword']);
		expect((await me(other)).status).toBe(200);
		expect((await me(jar)).status).toBe(200);
		expect(await messages()).toBe(before);
		const row = await database.db
			.selectFrom('accounts')
			.select('password_changed_at')
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		expect(row.password_changed_at).toBeNull();
	});

	it('R5: the same password in another Unicode form (NFD for NFC) is the same password: 400 same_password', async () => {
		const composed = 'café au lait, très chaud';
		const email = (await insertMember(app, 'nfc', { password: composed })).email;
		const jar = await browser(email, composed);
		const res = await change(jar, composed, composed.normalize('NFD'));
		expect(res.status).toBe(400);
		expect((await res.json()).error.code).toBe('same_password');
	});

	it('a wrong current password answers 401 invalid_credentials on the field and changes nothing', async () => {
		const email = await member();
		const other = await browser(email);
		const jar = await browser(email);
		const res = await change(jar, 'not my password');
		expect(res.status).toBe(401);
		const body = await res.json();
		expect(body.error.code).toBe('invalid_credentials');
		expect(Object.keys(body.error.fields)).toEqual(['currentPassword']);
		expect((await me(other)).status).toBe(200);
		expect((await me(jar)).status).toBe(200);
		await browser(email, PASSWORD);
	});

	it('repeated wrong current passwords are throttled as sign-in failures are (15 s, then 30 s)', async () => {
		const email = await member();
		const jar = await browser(email);
		for (let i = 0; i < 5; i++) expect((await change(jar, `wrong guess ${i}`)).status).toBe(401);
		const blocked = await change(jar, PASSWORD);
		expect(blocked.status).toBe(429);
		expect(blocked.headers.get('retry-after')).toBe('15');
		expect((await blocked.json()).error.code).toBe('rate_limited');
		app.clock.advance(15_000);
		expect((await change(jar, 'wrong again')).status).toBe(401);
		expect((await change(jar, PASSWORD)).headers.get('retry-after')).toBe('30');
		app.clock.advance(30_000);
		expect((await change(jar, PASSWORD)).status).toBe(204);
	});

	it('the new password follows the registration rules (R5)', async () => {
		const email = await member();
		const jar = await browser(email);
		const short = await change(jar, PASSWORD, 'short');
		expect([short.status, (await short.json()).error.code]).toEqual([400, 'invalid_password']);
		const common = await change(jar, PASSWORD, 'password123');
		expect([common.status, (await common.json()).error.code]).toEqual([400, 'password_too_common']);
		const same = await change(jar, PASSWORD, email);
		expect((await same.json()).error.code).toBe('invalid_password');
	});

	it('needs a signed-in owner', async () => {
		const res = await change(new Map(), PASSWORD);
		expect([res.status, (await res.json()).error.code]).toEqual([401, 'unauthenticated']);
	});

	it('the page’s form action changes it with JavaScript off', async () => {
		const email = await member();
		const other = await browser(email);
		const jar = await browser(email);
		const form = (fields: Record<string, string>) =>
			callEndpoint(actions.default!, app, {
				body: new URLSearchParams(fields),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				jar
			});
		expect(await form({ currentPassword: 'nope', newPassword: NEW_PASSWORD })).toMatchObject({
			status: 401,
			data: { error: { code: 'invalid_credentials', field: 'currentPassword' } }
		});
		expect(await form({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).toEqual({
			done: true
		});
		expect((await me(other)).status).toBe(401);
	});
});
