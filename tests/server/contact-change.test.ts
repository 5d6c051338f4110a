import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/passwords';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as start } from '../../src/routes/api/v1/account/contact-changes/+server';
import { POST as confirm } from '../../src/routes/api/v1/account/contact-changes/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

const PASSWORD = 'a long and quiet river';
const DAY = 86_400_000;

describe.each(testDatabases)('R16/R17 contact change on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let passwordHash: string;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(() => database.dispose());

	async function owner() {
		const email = uniqueEmail('owner');
		const row = await insertAccount(database.db, { email, password_hash: passwordHash, created_at: app.clock.now().getTime() });
		const jar: CookieJar = new Map();
		expect((await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD }, jar })).status).toBe(201);
		return { email, id: row.id, jar };
	}
	const begin = (jar: CookieJar, newIdentifier: string, currentPassword = PASSWORD) =>
		callEndpoint(start, app, { json: { currentPassword, newIdentifier }, jar });
	async function change(jar: CookieJar, newIdentifier = uniqueEmail('new')) {
		const started = await begin(jar, newIdentifier);
		if (started.status !== 202) return started;
		return callEndpoint(confirm, app, { json: { code: await latestCode(database.db, newIdentifier) }, jar });
	}

	it('R16: password + code to the new contact changes it; R17: the old contact is told, other sessions end', async () => {
		const me = await owner();
		const other: CookieJar = new Map();
		await callEndpoint(signIn, app, { json: { identifier: me.email, password: PASSWORD }, jar: other });
		const next = uniqueEmail('next');
		const res = await change(me.jar, next);
		expect(res.status).toBe(200);
		expect((await res.json()).contactChange).toMatchObject({ used: 1, remaining: 1, nextAllowedAt: new Date(app.clock.now().getTime() + 7 * DAY).toISOString() });
		const row = await database.db.selectFrom('accounts').select('email').where('id', '=', me.id).executeTakeFirstOrThrow();
		expect(row.email).toBe(next);
		const notice = await database.db.selectFrom('outbox').select(['body', 'purpose']).where('recipient', '=', me.email).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
		expect(notice.purpose).toBe('contact_changed');
		expect(notice.body).toMatch(/If this wasn't you, open \/appeal\?change=/);
		const mine = await callEndpoint(account, app, { method: 'GET', jar: me.jar });
		expect(mine.status).toBe(200);
		expect((await mine.json()).contactChange).toMatchObject({ used: 1, remaining: 1, limit: 2 });
		expect((await callEndpoint(account, app, { method: 'GET', jar: other })).status).toBe(401);
	});

	it('R16: a wrong current password is 403 invalid_credentials; unauthenticated is 401', async () => {
		const me = await owner();
		const wrong = await begin(me.jar, uniqueEmail(), 'not my password');
		expect([wrong.status, (await wrong.json()).error.code]).toEqual([403, 'invalid_credentials']);
		const anonymous = await callEndpoint(start, app, { json: { currentPassword: PASSWORD, newIdentifier: uniqueEmail() } });
		expect([anonymous.status, (await anonymous.json()).error.code]).toEqual([401, 'unauthenticated']);
	});

	it('R3/R16: the new contact must not belong to another account', async () => {
		const me = await owner();
		const taken = await insertAccount(database.db);
		const res = await begin(me.jar, taken.email!);
		expect([res.status, (await res.json()).error.code]).toEqual([409, 'identifier_taken']);
	});

	it('R16: a second change at 6 d 23 h 59 m is refused with nextAllowedAt, at 7 d allowed', async () => {
		const me = await owner();
		const first = app.clock.now().getTime();
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(7 * DAY - 60_000);
		await callEndpoint(signIn, app, { json: { identifier: (await database.db.selectFrom('accounts').select('email').where('id', '=', me.id).executeTakeFirstOrThrow()).email!, password: PASSWORD }, jar: me.jar });
		const early = await begin(me.jar, uniqueEmail());
		expect(early.status).toBe(409);
		expect((await early.json()).error).toMatchObject({ code: 'change_too_soon', nextAllowedAt: new Date(first + 7 * DAY).toISOString() });
		app.clock.advance(60_000);
		expect((await change(me.jar)).status).toBe(200);
	});

	it('R16: a third change inside 180 days of the first is refused until first + 180 d, allowed at that instant', async () => {
		const me = await owner();
		const first = app.clock.now().getTime();
		const relogin = async () => {
			const { email } = await database.db.selectFrom('accounts').select('email').where('id', '=', me.id).executeTakeFirstOrThrow();
			await callEndpoint(signIn, app, { json: { identifier: email!, password: PASSWORD }, jar: me.jar });
		};
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(30 * DAY);
		await relogin();
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(100 * DAY);
		await relogin();
		const refused = await begin(me.jar, uniqueEmail());
		expect((await refused.json()).error).toMatchObject({ code: 'change_quota_exhausted', nextAllowedAt: new Date(first + 180 * DAY).toISOString() });
		app.clock.set(new Date(first + 180 * DAY));
		await relogin();
		expect((await change(me.jar)).status).toBe(200);
	});

	it('R16: 20 parallel confirmations with one change left produce exactly one change', async () => {
		const me = await owner();
		await database.db.insertInto('contact_changes').values({ id: crypto.randomUUID(), account_id: me.id, kind: 'owner', old_identifier: 'a@example.com', new_identifier: me.email, changed_at: app.clock.now().getTime() - 30 * DAY }).execute();
		// Five codes out to five new contacts (the most kept live per account), confirmed four times each at once.
		const targets = Array.from({ length: 5 }, () => uniqueEmail('race'));
		const codes: string[] = [];
		for (const target of targets) {
			expect((await begin(me.jar, target)).status).toBe(202);
			codes.push(await latestCode(database.db, target));
		}
		const results = await Promise.all(Array.from({ length: 20 }, (_, i) => callEndpoint(confirm, app, { json: { code: codes[i % 5] }, jar: me.jar })));
		expect(results.filter((r) => r.status === 200)).toHaveLength(1);
		const changes = await database.db.selectFrom('contact_changes').select('id').where('account_id', '=', me.id).execute();
		expect(changes).toHaveLength(2);
		for (const r of results.filter((r) => r.status !== 200)) {
			expect(['change_too_soon', 'change_quota_exhausted', 'code_invalid', 'identifier_taken']).toContain((await r.json()).error.code);
		}
	});
});
