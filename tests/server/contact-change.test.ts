import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as start } from '../../src/routes/api/v1/account/contact-changes/+server';
import { POST as confirm } from '../../src/routes/api/v1/account/contact-changes/confirm/+server';
import { POST as resend } from '../../src/routes/api/v1/account/contact-changes/resend/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { latestCode, latestMessage } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { PASSWORD, passwordHashOf, signedInMember } from '../support/signed-in';

const DAY = 86_400_000;

describe.each(testDatabases)('R16/R17 contact change on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let passwordHash: string;
	beforeAll(async () => {
		({ database, app } = await openTestApp(open));
		passwordHash = await passwordHashOf();
	});
	afterAll(() => database.dispose());

	const owner = () => signedInMember(app, 'owner', { joinedNow: true });
	const begin = (jar: CookieJar, newIdentifier: string, currentPassword = PASSWORD) =>
		callEndpoint(start, app, { json: { currentPassword, newIdentifier }, jar });
	async function change(jar: CookieJar, newIdentifier = uniqueEmail('new')) {
		const started = await begin(jar, newIdentifier);
		if (started.status !== 202) return started;
		return callEndpoint(confirm, app, {
			json: { code: await latestCode(database.db, newIdentifier) },
			jar
		});
	}

	it('R16: password + code to the new contact changes it; R17: the old contact is told, other sessions end', async () => {
		const me = await owner();
		// Another session on the same device, so no new-device alert is queued in between.
		const other: CookieJar = new Map([['device', me.jar.get('device')!]]);
		await callEndpoint(signIn, app, {
			json: { identifier: me.email, password: PASSWORD },
			jar: other
		});
		const next = uniqueEmail('next');
		const res = await change(me.jar, next);
		expect(res.status).toBe(200);
		expect((await res.json()).contactChange).toMatchObject({
			used: 1,
			remaining: 1,
			nextAllowedAt: new Date(app.clock.now().getTime() + 7 * DAY).toISOString()
		});
		const row = await database.db
			.selectFrom('accounts')
			.select('email')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		expect(row.email).toBe(next);
		const notice = await latestMessage(database.db, me.email);
		expect(notice.purpose).toBe('contact_changed');
		expect(notice.text).toMatch(/If this wasn't you, appeal at once: \/appeal\?change=/);
		const mine = await callEndpoint(account, app, { method: 'GET', jar: me.jar });
		expect(mine.status).toBe(200);
		expect((await mine.json()).contactChange).toMatchObject({ used: 1, remaining: 1, limit: 2 });
		expect((await callEndpoint(account, app, { method: 'GET', jar: other })).status).toBe(401);
	});

	it('R16: a wrong current password is 403 invalid_credentials; unauthenticated is 401', async () => {
		const me = await owner();
		const wrong = await begin(me.jar, uniqueEmail(), 'not my password');
		expect([wrong.status, (await wrong.json()).error.code]).toEqual([403, 'invalid_credentials']);
		const anonymous = await callEndpoint(start, app, {
			json: { currentPassword: PASSWORD, newIdentifier: uniqueEmail() }
		});
		expect([anonymous.status, (await anonymous.json()).error.code]).toEqual([
			401,
			'unauthenticated'
		]);
	});

	it('R3/R16: the new contact must not belong to another account (told only after its code)', async () => {
		const me = await owner();
		const taken = await insertAccount(database.db);
		const res = await begin(me.jar, taken.email!);
		expect(res.status).toBe(202);
		const refused = await callEndpoint(confirm, app, {
			json: { code: await latestCode(database.db, taken.email!) },
			jar: me.jar
		});
		expect([refused.status, (await refused.json()).error.code]).toEqual([409, 'identifier_taken']);
		const row = await database.db
			.selectFrom('accounts')
			.select('email')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		expect(row.email).toBe(me.email);
		expect(
			await database.db
				.selectFrom('contact_changes')
				.select('id')
				.where('account_id', '=', me.id)
				.execute()
		).toEqual([]);
	});

	it('R15/R16: starting a change answers byte for byte the same for a taken and a free contact', async () => {
		const me = await owner();
		const taken = (await insertAccount(database.db)).email!;
		const answer = async (newIdentifier: string) => {
			// Behind a proxy that names requests: no random request id in the answers.
			const res = await callEndpoint(start, app, {
				json: { currentPassword: PASSWORD, newIdentifier },
				jar: me.jar,
				headers: { 'x-request-id': 'r15-r16' }
			});
			const body = (await res.text()).replaceAll(newIdentifier, '<id>');
			return { status: res.status, body, headers: [...res.headers].filter(([k]) => k !== 'date') };
		};
		const free = await answer(uniqueEmail('free'));
		expect(free.status).toBe(202);
		expect(await answer(taken)).toEqual(free);
	});

	it('R15/R16: contact-change starts are limited per account (no unlimited probing)', async () => {
		const me = await owner();
		const statuses: number[] = [];
		for (let i = 0; i < 12; i++) statuses.push((await begin(me.jar, uniqueEmail('probe'))).status);
		expect(statuses.slice(0, 10)).toEqual(Array(10).fill(202));
		expect(statuses.slice(10)).toEqual([429, 429]);
	});

	it('R6/R16: a code to an earlier new contact dies when a later change starts; guesses count against the live code', async () => {
		const me = await owner();
		const victim = uniqueEmail('earlier');
		expect((await begin(me.jar, victim)).status).toBe(202);
		const earlierCode = await latestCode(database.db, victim);
		const later = uniqueEmail('later');
		expect((await begin(me.jar, later)).status).toBe(202);
		const liveCode = await latestCode(database.db, later);
		const wrongs = Array.from({ length: 6 }, (_, i) =>
			String((Number(liveCode) + 1 + i) % 1e6).padStart(6, '0')
		).filter((c) => c !== earlierCode);
		const answers: string[] = [];
		for (const code of wrongs.slice(0, 5))
			answers.push(
				(await (await callEndpoint(confirm, app, { json: { code }, jar: me.jar })).json()).error
					.code
			);
		expect(answers).toEqual(Array(5).fill('code_invalid'));
		// The earlier contact's code was never the live one: it binds nothing, now or after the guesses.
		const earlier = await callEndpoint(confirm, app, { json: { code: earlierCode }, jar: me.jar });
		expect(earlier.status).not.toBe(200);
		const live = await callEndpoint(confirm, app, { json: { code: liveCode }, jar: me.jar });
		expect([live.status, (await live.json()).error.code]).toEqual([429, 'too_many_attempts']);
		const row = await database.db
			.selectFrom('accounts')
			.select('email')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		expect(row.email).toBe(me.email);
	});

	it('R6/R16: a resend goes to the pending new contact only after 60 s, and replaces its code', async () => {
		const me = await owner();
		const again = () => callEndpoint(resend, app, { json: {}, jar: me.jar });
		const none = await again();
		expect([none.status, (await none.json()).error.code]).toEqual([409, 'code_not_pending']);
		const next = uniqueEmail('resent');
		expect((await begin(me.jar, next)).status).toBe(202);
		const first = await latestCode(database.db, next);
		const early = await again();
		expect([early.status, (await early.json()).error.code]).toEqual([429, 'rate_limited']);
		app.clock.advance(60_000);
		expect((await again()).status).toBe(202);
		const second = await latestCode(database.db, next);
		expect(second).not.toBe(first);
		const unknown = await callEndpoint(resend, app, { json: { to: 'x@y.z' }, jar: me.jar });
		expect(unknown.status).toBe(400);
		expect((await callEndpoint(confirm, app, { json: { code: second }, jar: me.jar })).status).toBe(
			200
		);
		expect((await callEndpoint(resend, app, { json: {}, jar: new Map() })).status).toBe(401);
	});

	it('R6/R16: another account starting a change to the same new contact leaves the first code working', async () => {
		const ownerA = await owner();
		const ownerB = await owner();
		const shared = uniqueEmail('shared');
		expect((await begin(ownerA.jar, shared)).status).toBe(202);
		const codeA = await latestCode(database.db, shared);
		// A second later (so the outbox tells the two messages apart), inside A's 60 s cooldown.
		app.clock.advance(1_000);
		// No cooldown shared with A, no sign that someone else waits on this contact.
		expect((await begin(ownerB.jar, shared)).status).toBe(202);
		const codeB = await latestCode(database.db, shared);
		// B's wrong guesses (a code's 5, twice: 10, the hourly cap per identifier) spend B's tries,
		// not A's.
		const guess = async (code: string) => {
			const wrong = Array.from({ length: 12 }, (_, i) =>
				String((Number(code) + 1 + i) % 1e6).padStart(6, '0')
			).filter((guessed) => guessed !== codeA && guessed !== code);
			for (const wrongCode of wrong.slice(0, 5))
				await callEndpoint(confirm, app, { json: { code: wrongCode }, jar: ownerB.jar });
		};
		await guess(codeB);
		app.clock.advance(60_000);
		expect((await callEndpoint(resend, app, { json: {}, jar: ownerB.jar })).status).toBe(202);
		await guess(await latestCode(database.db, shared));
		const confirmedA = await callEndpoint(confirm, app, { json: { code: codeA }, jar: ownerA.jar });
		expect(confirmedA.status).toBe(200);
		const emailOf = async (id: string) =>
			(
				await database.db
					.selectFrom('accounts')
					.select('email')
					.where('id', '=', id)
					.executeTakeFirstOrThrow()
			).email;
		expect(await emailOf(ownerA.id)).toBe(shared);
		expect(await emailOf(ownerB.id)).toBe(ownerB.email);
	});

	it("R6/R16: a later start by the first account does not kill the other account's code to the same contact", async () => {
		const ownerA = await owner();
		const ownerB = await owner();
		const shared = uniqueEmail('shared');
		expect((await begin(ownerB.jar, shared)).status).toBe(202);
		const codeB = await latestCode(database.db, shared);
		app.clock.advance(1_000);
		expect((await begin(ownerA.jar, shared)).status).toBe(202);
		const codeA = await latestCode(database.db, shared);
		// B's code still confirms: the contact is still free, so the change goes through.
		const confirmedB = await callEndpoint(confirm, app, { json: { code: codeB }, jar: ownerB.jar });
		expect(confirmedB.status).toBe(200);
		// A's code is alive too, and is told only now that the contact was taken (R3).
		const confirmedA = await callEndpoint(confirm, app, { json: { code: codeA }, jar: ownerA.jar });
		expect([confirmedA.status, (await confirmedA.json()).error.code]).toEqual([
			409,
			'identifier_taken'
		]);
	});

	it('§7b: a frozen account can neither start nor confirm a contact change (403 account_frozen)', async () => {
		const me = await owner();
		const next = uniqueEmail('frozen');
		expect((await begin(me.jar, next)).status).toBe(202);
		const code = await latestCode(database.db, next);
		await database.db
			.updateTable('accounts')
			.set({ frozen_at: app.clock.now().getTime() })
			.where('id', '=', me.id)
			.execute();
		const started = await begin(me.jar, uniqueEmail('frozen'));
		expect([started.status, (await started.json()).error.code]).toEqual([403, 'account_frozen']);
		const resent = await callEndpoint(resend, app, { json: {}, jar: me.jar });
		expect([resent.status, (await resent.json()).error.code]).toEqual([403, 'account_frozen']);
		const confirmed = await callEndpoint(confirm, app, { json: { code }, jar: me.jar });
		expect([confirmed.status, (await confirmed.json()).error.code]).toEqual([
			403,
			'account_frozen'
		]);
		const row = await database.db
			.selectFrom('accounts')
			.select('email')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		expect(row.email).toBe(me.email);
	});

	it('R6: a wrong code answers attemptsLeft for the live code', async () => {
		const me = await owner();
		const next = uniqueEmail('tries');
		expect((await begin(me.jar, next)).status).toBe(202);
		const code = await latestCode(database.db, next);
		const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
		const left: unknown[] = [];
		for (let i = 0; i < 4; i++)
			left.push(
				(await (await callEndpoint(confirm, app, { json: { code: wrong }, jar: me.jar })).json())
					.error.attemptsLeft
			);
		expect(left).toEqual([4, 3, 2, 1]);
	});

	it('R17/R18: a password-reset code sent to the old contact dies with the change', async () => {
		const me = await owner();
		expect((await callEndpoint(requestReset, app, { json: { identifier: me.email } })).status).toBe(
			202
		);
		const resetCode = await latestCode(database.db, me.email);
		expect((await change(me.jar)).status).toBe(200);
		const reset = await callEndpoint(confirmReset, app, {
			json: { identifier: me.email, code: resetCode, newPassword: 'an attacker chose this one' }
		});
		expect(reset.status).toBe(400);
		const row = await database.db
			.selectFrom('accounts')
			.select('password_hash')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		expect(row.password_hash).toBe(passwordHash);
	});

	it('R16: a second change at 6 d 23 h 59 m is refused with nextAllowedAt, at 7 d allowed', async () => {
		const me = await owner();
		const first = app.clock.now().getTime();
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(7 * DAY - 60_000);
		await callEndpoint(signIn, app, {
			json: {
				identifier: (
					await database.db
						.selectFrom('accounts')
						.select('email')
						.where('id', '=', me.id)
						.executeTakeFirstOrThrow()
				).email!,
				password: PASSWORD
			},
			jar: me.jar
		});
		const early = await begin(me.jar, uniqueEmail());
		expect(early.status).toBe(409);
		expect((await early.json()).error).toMatchObject({
			code: 'change_too_soon',
			nextAllowedAt: new Date(first + 7 * DAY).toISOString()
		});
		app.clock.advance(60_000);
		expect((await change(me.jar)).status).toBe(200);
	});

	it("R16: the change_too_soon message names the date in the request's language and in UTC, never as ISO", async () => {
		const me = await owner();
		const first = app.clock.now().getTime();
		expect((await change(me.jar)).status).toBe(200);
		const { email } = await database.db
			.selectFrom('accounts')
			.select('email')
			.where('id', '=', me.id)
			.executeTakeFirstOrThrow();
		await callEndpoint(signIn, app, {
			json: { identifier: email!, password: PASSWORD },
			jar: me.jar
		});
		const next = new Date(first + 7 * DAY);
		const refusal = async (language: string) => {
			const res = await callEndpoint(start, app, {
				json: { currentPassword: PASSWORD, newIdentifier: uniqueEmail() },
				headers: { 'accept-language': language },
				jar: me.jar
			});
			expect(res.status).toBe(409);
			return (await res.json()).error as { code: string; message: string; nextAllowedAt: string };
		};
		const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
		const en = await refusal('en');
		expect(en.code).toBe('change_too_soon');
		// The machine-readable field keeps ISO; the sentence a person reads does not.
		expect(en.nextAllowedAt).toBe(next.toISOString());
		expect(en.message).not.toMatch(iso);
		const year = String(next.getUTCFullYear());
		const month = next.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
		expect(en.message).toContain(`${month} ${next.getUTCDate()}, ${year}`);
		expect(en.message).toMatch(/\bUTC\b/);
		const zh = await refusal('zh-CN');
		expect(zh.code).toBe('change_too_soon');
		expect(zh.message).not.toMatch(iso);
		expect(zh.message).toContain(`${year}年${next.getUTCMonth() + 1}月${next.getUTCDate()}日`);
		expect(zh.message).toContain('UTC');
		expect(zh.message).toMatch(/[\u4e00-\u9fff]/);
	});

	it('R16: a third change inside 180 days of the first is refused until first + 180 d, allowed at that instant', async () => {
		const me = await owner();
		const first = app.clock.now().getTime();
		const relogin = async () => {
			const { email } = await database.db
				.selectFrom('accounts')
				.select('email')
				.where('id', '=', me.id)
				.executeTakeFirstOrThrow();
			await callEndpoint(signIn, app, {
				json: { identifier: email!, password: PASSWORD },
				jar: me.jar
			});
		};
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(30 * DAY);
		await relogin();
		expect((await change(me.jar)).status).toBe(200);
		app.clock.advance(100 * DAY);
		await relogin();
		const refused = await begin(me.jar, uniqueEmail());
		expect((await refused.json()).error).toMatchObject({
			code: 'change_quota_exhausted',
			nextAllowedAt: new Date(first + 180 * DAY).toISOString()
		});
		app.clock.set(new Date(first + 180 * DAY));
		await relogin();
		expect((await change(me.jar)).status).toBe(200);
	});

	it('R16: 20 parallel confirmations with one change left produce exactly one change', async () => {
		const me = await owner();
		await database.db
			.insertInto('contact_changes')
			.values({
				id: crypto.randomUUID(),
				account_id: me.id,
				kind: 'owner',
				old_identifier: 'a@example.com',
				new_identifier: me.email,
				changed_at: app.clock.now().getTime() - 30 * DAY
			})
			.execute();
		// One live code per account (R6), confirmed twenty times at once.
		const target = uniqueEmail('race');
		expect((await begin(me.jar, target)).status).toBe(202);
		const code = await latestCode(database.db, target);
		const results = await Promise.all(
			Array.from({ length: 20 }, () => callEndpoint(confirm, app, { json: { code }, jar: me.jar }))
		);
		expect(results.filter((r) => r.status === 200)).toHaveLength(1);
		const changes = await database.db
			.selectFrom('contact_changes')
			.select('id')
			.where('account_id', '=', me.id)
			.execute();
		expect(changes).toHaveLength(2);
		for (const refused of results.filter((result) => result.status !== 200)) {
			expect([
				'change_too_soon',
				'change_quota_exhausted',
				'code_invalid',
				'identifier_taken'
			]).toContain((await refused.json()).error.code);
		}
	});

	it('R15/R16: starting a change takes the same time for a taken and a free contact', async () => {
		const me = await owner();
		const taken = await Promise.all(
			Array.from({ length: 20 }, async () => (await insertAccount(database.db)).email!)
		);
		const times = { taken: [] as number[], free: [] as number[] };
		const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
		for (let i = 0; i < 40; i++) {
			const pick = i % 2 === 0 ? 'taken' : 'free';
			const newIdentifier = pick === 'taken' ? taken[Math.floor(i / 2)]! : uniqueEmail('free');
			const startedAt = performance.now();
			const res = await begin(me.jar, newIdentifier);
			times[pick].push(performance.now() - startedAt);
			expect(res.status).toBe(202);
			// Ten starts an hour per account: spread them out.
			app.clock.advance(6 * 60_000);
		}
		const [mt, mf] = [median(times.taken), median(times.free)];
		expect(Math.abs(mt - mf), `medians ${mt.toFixed(3)} vs ${mf.toFixed(3)} ms`).toBeLessThan(
			Math.max(0.5, 0.25 * Math.min(mt, mf))
		);
	});
});
