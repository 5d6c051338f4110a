import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimAppeal } from '../../src/lib/server/appeals/decisions';
import { runRecoveryJobs } from '../../src/lib/server/appeals/recovery';
import { openDatabase } from '../../src/lib/server/db/database';
import { maskIdentifier } from '../../src/lib/server/core/identifiers';
import { openContent } from '../../src/lib/server/messaging/outbox';
import { testKeyring } from '../../src/lib/server/core/keys';
import { POST as cancelByLink } from '../../src/routes/api/v1/recovery/cancel/+server';
import { POST as cancelByOwner } from '../../src/routes/api/v1/account/recovery/cancel/+server';
import { GET as accountView } from '../../src/routes/api/v1/account/+server';
import { GET as appealStatusApi } from '../../src/routes/api/v1/appeals/[reference]/+server';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestApp, testAppContext, type TestApp } from '../support/app-context';
import { makeAgent } from '../support/agents';
import { approvedByAnAgent, fileAppeal, filedAppeal, openAppealTestApp } from '../support/appeals';
import { callEndpoint } from '../support/endpoints';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';

/**
 * Rules §8a, recovery the owner controls: every contact bound to an account hears of an appeal
 * for it at once, with a single-use cancel link; an approval waits out the hold (72 h by
 * default) before the rebind, which happens exactly once; the owner stops it by link or with the
 * password. Everything through the real endpoints, with the test clock.
 */

const ORIGIN = 'https://asc.example';
const HOUR = 3_600_000;
const meta = { ip: '203.0.113.9' };

type App = TestApp;

describe.each(testDatabases)('§8a recovery the owner controls on $name', ({ name, open }) => {
	let database: TestDatabase;
	let app: App;
	let storage: string;
	beforeAll(
		async () => ({ database, app, storage } = await openAppealTestApp(open, { env: { ORIGIN } }))
	);
	afterAll(() => closeTestApp(database));

	/** Messages to `recipient` of `purpose`, oldest first, as the person reads them. */
	async function messages(recipient: string, purpose: string) {
		const rows = await database.db
			.selectFrom('outbox')
			.select(['id', 'payload'])
			.where('recipient', '=', recipient)
			.where('purpose', '=', purpose)
			.orderBy('created_at', 'asc')
			.orderBy('id', 'asc')
			.execute();
		return rows.map((r) => openContent(testKeyring(), r.id, r.payload)?.body ?? '');
	}
	const tokenIn = (text: string) => {
		const link = /https:\/\/asc\.example\/recovery\/cancel\?token=([a-z2-7]+)/.exec(text);
		if (!link) throw new Error(`no cancel link in: ${text}`);
		return link[1]!;
	};

	async function owner(options: { phone?: boolean } = {}) {
		const phone = options.phone ? uniqueCnMobile() : null;
		const member = await insertMember(app, 'owner', { joinedNow: true, account: { phone } });
		return { ...member, phone };
	}

	const signedIn = (a: App, identifier: string) => signedInBrowser(a, identifier);
	const filed = (a: App, identifier: string, clientAddress?: string) =>
		filedAppeal(a, { identifier, clientAddress });

	async function approve(a: App, appealId: string) {
		expect(await approvedByAnAgent(a, appealId)).toEqual({ ok: true, outcome: 'approved' });
	}

	const accountRow = (id: string) =>
		database.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
	const appealRow = (id: string) =>
		database.db.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
	const countRows = async (table: 'contact_changes', accountId: string) =>
		Number(
			(
				await database.db
					.selectFrom(table)
					.select((eb) => eb.fn.countAll().as('n'))
					.where('account_id', '=', accountId)
					.executeTakeFirstOrThrow()
			).n
		);
	const linkCancel = (a: App, token: unknown, clientAddress?: string) =>
		callEndpoint(cancelByLink, a, { json: { token }, clientAddress });
	const statusOf = (a: App, reference: string, token: string) =>
		callEndpoint(
			(event: Parameters<typeof appealStatusApi>[0]) =>
				appealStatusApi({ ...event, params: { reference } }),
			a,
			{
				method: 'GET',
				path: `/api/v1/appeals/${reference}`,
				headers: { authorization: `Bearer ${token}` }
			}
		);

	it('§8a: filing tells every bound contact (email and phone, the lost one too) at once, with its own single-use link on ORIGIN; only hashes are stored', async () => {
		const o = await owner({ phone: true });
		// From a network in China (the test GeoIP database).
		const { row, newIdentifier } = await filed(app, o.email, '1.0.1.1');
		expect(row.ip_country).toBe('CN');
		const toEmail = await messages(o.email, 'recovery_filed');
		const toPhone = await messages(o.phone!, 'recovery_filed');
		expect(toEmail).toHaveLength(1);
		expect(toPhone).toHaveLength(1);
		const masked = maskIdentifier({ kind: 'email', value: newIdentifier });
		expect(toEmail[0]).toContain(masked);
		expect(toEmail[0]).not.toContain(newIdentifier);
		expect(toEmail[0]).toContain('72 hours');
		expect(toEmail[0]).toContain('Country of the network: China');
		expect(toEmail[0]).toContain('2026');
		const tokens = [tokenIn(toEmail[0]!), tokenIn(toPhone[0]!)];
		expect(tokens[0]).not.toBe(tokens[1]);
		// 160 random bits, base32: at least the 128 the rules ask for.
		expect(tokens[0]).toMatch(/^[a-z2-7]{32}$/);
		const stored = await database.db
			.selectFrom('recovery_cancel_tokens')
			.selectAll()
			.where('appeal_id', '=', row.id)
			.execute();
		expect(stored).toHaveLength(2);
		for (const t of stored) {
			expect(tokens).not.toContain(t.id);
			expect(t.id).toMatch(/^[0-9a-f]{64}$/);
			expect(t.account_id).toBe(o.id);
		}
	});

	it('§8a: an appeal for an identifier with no account sends no notice and answers exactly as for a registered one', async () => {
		const o = await owner();
		const known = await fileAppeal(app, { identifier: o.email });
		const stranger = uniqueEmail('nobody');
		const unknown = await fileAppeal(app, { identifier: stranger });
		expect(unknown.response.status).toBe(known.response.status);
		const [a, b] = [await known.response.json(), await unknown.response.json()];
		expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
		expect(await messages(stranger, 'recovery_filed')).toEqual([]);
		// A link nobody was sent and a guessed one look alike.
		const garbage = await linkCancel(app, 'a'.repeat(32));
		expect(garbage.status).toBe(400);
		expect((await garbage.json()).error.code).toBe('link_invalid');
	});

	it('§8a: the link stops the appeal (200 cancelled); used again → 400 link_invalid; garbage → 400; another contact’s link for the closed appeal → 410', async () => {
		const o = await owner({ phone: true });
		const { row, body, newIdentifier } = await filed(app, o.email);
		const [emailToken, phoneToken] = [
			tokenIn((await messages(o.email, 'recovery_filed'))[0]!),
			tokenIn((await messages(o.phone!, 'recovery_filed'))[0]!)
		];
		const first = await linkCancel(app, emailToken);
		expect(first.status).toBe(200);
		expect(await first.json()).toEqual({ status: 'cancelled' });
		const again = await linkCancel(app, emailToken);
		expect(again.status).toBe(400);
		expect((await again.json()).error.code).toBe('link_invalid');
		for (const bad of ['', 'not a token', 'A'.repeat(32), 'x'.repeat(100)]) {
			const res = await linkCancel(app, bad);
			expect(res.status).toBe(400);
		}
		const closed = await linkCancel(app, phoneToken);
		expect(closed.status).toBe(410);
		expect((await closed.json()).error.code).toBe('link_expired');

		const appeal = await appealRow(row.id);
		expect(appeal.status).toBe('cancelled');
		expect(appeal.cancelled_by).toBe('link');
		expect(Number(appeal.cancelled_at)).toBe(app.clock.now().getTime());
		expect(Number(appeal.decided_at)).toBe(app.clock.now().getTime());
		// The appellant sees it stopped by the account's current holder, without who or how.
		const view = await (await statusOf(app, body.reference, body.statusToken)).json();
		expect(view.status).toBe('cancelled');
		expect(view.timeline.map((e: { event: string }) => e.event)).toContain('cancelled');
		expect(JSON.stringify(view)).not.toContain('link');
		const told = await messages(newIdentifier, 'appeal_cancelled');
		expect(told).toHaveLength(1);
		expect(told[0]).toContain("account's current holder");
		// Nothing was rebound, and the console cannot approve it any more.
		expect((await accountRow(o.id)).email).toBe(o.email);
		const agent = await makeAgent(app);
		expect(await claimAppeal(app, agent, row.id, { takeOver: false }, meta)).toMatchObject({
			code: 'appeal_decided'
		});
	});

	it('§8a: a link works at most until its upper bound (410 link_expired after), and the cancel endpoint is limited per network', async () => {
		const o = await owner();
		await filed(app, o.email);
		const token = tokenIn((await messages(o.email, 'recovery_filed'))[0]!);
		const later = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: storage, ORIGIN },
			now: new Date(app.clock.now().getTime() + 15 * 86_400_000).toISOString()
		});
		const res = await linkCancel(later, token);
		expect(res.status).toBe(410);
		expect((await res.json()).error.code).toBe('link_expired');

		const address = '198.51.100.77';
		let last = 0;
		for (let i = 0; i < 21; i += 1) last = (await linkCancel(app, 'b'.repeat(32), address)).status;
		expect(last).toBe(429);
	});

	it('R24: a thief who spends the network budget on junk links cannot stop the owner clicking a live link from that network', async () => {
		const o = await owner();
		const { row } = await filed(app, o.email);
		const token = tokenIn((await messages(o.email, 'recovery_filed'))[0]!);
		const shared = '198.51.100.88';
		for (let i = 0; i < 25; i += 1) await linkCancel(app, 'c'.repeat(32), shared);
		expect((await linkCancel(app, 'c'.repeat(32), shared)).status).toBe(429);
		const owners = await linkCancel(app, token, shared);
		expect(owners.status).toBe(200);
		expect((await appealRow(row.id)).status).toBe('cancelled');
	});

	it('§8a: the owner sees the pending recovery and stops it with the current password (a wrong one is refused and changes nothing)', async () => {
		const o = await owner();
		const { row, newIdentifier } = await filed(app, o.email);
		const jar = await signedIn(app, o.email);
		const view = await (await callEndpoint(accountView, app, { method: 'GET', jar })).json();
		expect(view.pendingRecovery).toEqual({
			reference: row.reference,
			status: 'submitted',
			newContact: maskIdentifier({ kind: 'email', value: newIdentifier }),
			effectiveAt: null
		});
		const wrong = await callEndpoint(cancelByOwner, app, {
			json: { currentPassword: 'not the password at all' },
			jar
		});
		expect(wrong.status).toBe(403);
		expect((await wrong.json()).error.code).toBe('invalid_credentials');
		expect((await appealRow(row.id)).status).toBe('submitted');
		const right = await callEndpoint(cancelByOwner, app, {
			json: { currentPassword: PASSWORD },
			jar
		});
		expect(right.status).toBe(200);
		expect(await right.json()).toEqual({ status: 'cancelled', cancelled: 1 });
		const after = await appealRow(row.id);
		expect(after.status).toBe('cancelled');
		expect(after.cancelled_by).toBe('owner');
		const again = await (await callEndpoint(accountView, app, { method: 'GET', jar })).json();
		expect(again.pendingRecovery).toBeNull();
		const none = await callEndpoint(cancelByOwner, app, {
			json: { currentPassword: PASSWORD },
			jar
		});
		expect(none.status).toBe(409);
		expect((await none.json()).error.code).toBe('no_pending_recovery');
		// Signed out: no answer about any account.
		expect(
			(await callEndpoint(cancelByOwner, app, { json: { currentPassword: PASSWORD } })).status
		).toBe(401);
	});

	it('§8a: 71 h after approval nothing has changed (contact, sessions, two-step); at 72 h the next read (a check) rebinds once, then the job finds nothing', async () => {
		const o = await owner();
		const { row, body, newIdentifier } = await filed(app, o.email);
		const jar = await signedIn(app, o.email);
		await database.db
			.insertInto('passkeys')
			.values({
				id: `cred-${o.id}`,
				account_id: o.id,
				public_key: new Uint8Array([1, 2, 3]),
				counter: 0,
				transports: null,
				name: 'Phone',
				created_at: app.clock.now().getTime(),
				last_used_at: null
			})
			.execute();
		const approvedAt = app.clock.now().getTime();
		await approve(app, row.id);
		const held = await appealRow(row.id);
		expect(held.status).toBe('approved');
		expect(Number(held.rebind_due_at)).toBe(approvedAt + 72 * HOUR);
		expect(held.rebound_at).toBeNull();
		// The appellant: approved, with the date; the old contact: a fresh link and the date.
		const status = await (await statusOf(app, body.reference, body.statusToken)).json();
		expect(status.status).toBe('approved');
		expect(status.effectiveAt).toBe(new Date(approvedAt + 72 * HOUR).toISOString());
		expect(await messages(newIdentifier, 'appeal_approved_held')).toHaveLength(1);
		expect(await messages(o.email, 'recovery_held')).toHaveLength(1);
		expect(await messages(newIdentifier, 'appeal_approved_new')).toHaveLength(0);

		// The owner keeps using the session (idle timeout 24 h): it stays alive through the hold.
		for (const step of [23, 23, 23, 2]) {
			app.clock.advance(step * HOUR);
			expect((await callEndpoint(accountView, app, { method: 'GET', jar })).status).toBe(200);
		}
		const midRes = await callEndpoint(accountView, app, { method: 'GET', jar });
		expect(midRes.status).toBe(200);
		const mid = await midRes.json();
		expect(mid.contacts).toEqual([{ kind: 'email', masked: expect.any(String) }]);
		expect(mid.pendingRecovery.effectiveAt).toBe(status.effectiveAt);
		expect((await accountRow(o.id)).email).toBe(o.email);
		const report = await (
			await callEndpoint(check, app, { json: { identifier: o.email }, jar })
		).json();
		expect(report.security.twoStep).toBe(true);
		expect(report.recovery).toEqual({
			approved: true,
			effectiveAt: status.effectiveAt,
			decisionDueAt: expect.any(String)
		});
		expect(await countRows('contact_changes', o.id)).toBe(0);
		expect((await runRecoveryJobs(app)).rebound).toBe(0);

		app.clock.advance(HOUR);
		// The next read of the account applies it: a check by the old contact.
		const due = await (await callEndpoint(check, app, { json: { identifier: o.email } })).json();
		expect(due.registered).toBe(false);
		const after = await accountRow(o.id);
		expect(after.email).toBe(newIdentifier);
		expect(after.rebind_due_at).toBeNull();
		expect(Number((await appealRow(row.id)).rebound_at)).toBe(app.clock.now().getTime());
		expect(await countRows('contact_changes', o.id)).toBe(1);
		expect((await runRecoveryJobs(app)).rebound).toBe(0);
		expect(await messages(newIdentifier, 'appeal_approved_new')).toHaveLength(1);
		// Sessions and two-step end with the rebind itself.
		expect((await callEndpoint(accountView, app, { method: 'GET', jar })).status).toBe(401);
		const keys = await database.db
			.selectFrom('passkeys')
			.select('id')
			.where('account_id', '=', o.id)
			.execute();
		expect(keys).toEqual([]);
		const final = await (await statusOf(app, body.reference, body.statusToken)).json();
		expect(final.timeline.map((e: { event: string }) => e.event)).toContain('rebound');
		const audited = await database.db
			.selectFrom('audit_events')
			.select('action')
			.where('subject_id', '=', row.id)
			.where('action', '=', 'appeal.rebound')
			.execute();
		expect(audited).toHaveLength(1);
	});

	it('§8a: a sign-in with the new contact after the hold is the read that rebinds (before the job runs)', async () => {
		const o = await owner();
		const { row, newIdentifier } = await filed(app, o.email);
		await approve(app, row.id);
		app.clock.advance(72 * HOUR);
		const res = await callEndpoint(signIn, app, {
			json: { identifier: newIdentifier, password: PASSWORD },
			jar: new Map()
		});
		expect(res.status).toBe(201);
		expect((await accountRow(o.id)).email).toBe(newIdentifier);
	});

	it('§8a: the job applies a due rebind once and reminds the old contacts every 24 h with a fresh link; an older link keeps working', async () => {
		const o = await owner({ phone: true });
		const { row } = await filed(app, o.email);
		const firstLink = tokenIn((await messages(o.phone!, 'recovery_filed'))[0]!);
		await approve(app, row.id);
		expect((await runRecoveryJobs(app)).reminded).toBe(0);
		app.clock.advance(24 * HOUR);
		expect((await runRecoveryJobs(app)).reminded).toBe(1);
		expect((await runRecoveryJobs(app)).reminded).toBe(0);
		const reminders = await messages(o.email, 'recovery_held');
		expect(reminders).toHaveLength(2);
		expect(tokenIn(reminders[1]!)).not.toBe(tokenIn(reminders[0]!));
		expect(Number((await appealRow(row.id)).reminded_at)).toBe(app.clock.now().getTime());
		// The link sent at filing still stops it during the hold.
		const res = await linkCancel(app, firstLink);
		expect(res.status).toBe(200);
		app.clock.advance(48 * HOUR);
		expect(await runRecoveryJobs(app)).toEqual({ rebound: 0, reminded: 0 });
		expect((await accountRow(o.id)).email).toBe(o.email);
	});

	it('§8a: a link used after the hold ended answers 410 and the rebind happens at once', async () => {
		const o = await owner();
		const { row, newIdentifier } = await filed(app, o.email);
		const token = tokenIn((await messages(o.email, 'recovery_filed'))[0]!);
		await approve(app, row.id);
		app.clock.advance(72 * HOUR);
		const res = await linkCancel(app, token);
		expect(res.status).toBe(410);
		expect((await accountRow(o.id)).email).toBe(newIdentifier);
	});

	it('§8a: cancel and rebind at the same moment, 8 rounds: exactly one wins', async () => {
		for (let round = 0; round < 8; round += 1) {
			const o = await owner();
			const { row } = await filed(app, o.email);
			const token = tokenIn((await messages(o.email, 'recovery_filed'))[0]!);
			await approve(app, row.id);
			const due = Number((await appealRow(row.id)).rebind_due_at);
			// Two instances: one whose clock is just before the end of the hold (the cancel), one at it.
			const before = testAppContext(database, {
				env: { APPEAL_STORAGE_DIR: storage, ORIGIN },
				now: new Date(due - 1).toISOString()
			});
			const at = testAppContext(database, {
				env: { APPEAL_STORAGE_DIR: storage, ORIGIN },
				now: new Date(due).toISOString()
			});
			// Either one starts first, alternately.
			const job = round % 2 === 0 ? null : runRecoveryJobs(at);
			const cancelling = linkCancel(before, token);
			const [cancelled, jobs] = await Promise.all([cancelling, job ?? runRecoveryJobs(at)]);
			const appeal = await appealRow(row.id);
			const cancelWon = cancelled.status === 200;
			expect(cancelWon !== (jobs.rebound === 1)).toBe(true);
			expect(appeal.status).toBe(cancelWon ? 'cancelled' : 'approved');
			expect(appeal.rebound_at === null).toBe(cancelWon);
			expect(await countRows('contact_changes', o.id)).toBe(cancelWon ? 0 : 1);
		}
	});

	it(`§8a: two instances on one ${name} database apply one rebind and send one set of notices`, async () => {
		const o = await owner();
		const { row, newIdentifier } = await filed(app, o.email);
		await approve(app, row.id);
		const due = new Date(Number((await appealRow(row.id)).rebind_due_at)).toISOString();
		// A second connection pool to the same database (on SQLite in memory the same handle).
		const handle = name === 'postgres' ? openDatabase(database.target) : null;
		const second = handle
			? testAppContext(
					{ ...handle, target: database.target, dispose: () => handle.close() },
					{ env: { APPEAL_STORAGE_DIR: storage, ORIGIN }, now: due }
				)
			: testAppContext(database, { env: { APPEAL_STORAGE_DIR: storage, ORIGIN }, now: due });
		const first = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: storage, ORIGIN },
			now: due
		});
		try {
			const results = await Promise.all([
				runRecoveryJobs(first),
				runRecoveryJobs(second),
				callEndpoint(check, first, { json: { identifier: o.email } }),
				callEndpoint(check, second, { json: { identifier: newIdentifier } }),
				runRecoveryJobs(second)
			]);
			const rebound = [results[0], results[1], results[4]].reduce((n, r) => n + r.rebound, 0);
			expect(rebound).toBeLessThanOrEqual(1);
			expect((await accountRow(o.id)).email).toBe(newIdentifier);
			expect(await countRows('contact_changes', o.id)).toBe(1);
			expect(await messages(newIdentifier, 'appeal_approved_new')).toHaveLength(1);
			expect(await messages(o.email, 'appeal_approved_old')).toHaveLength(1);
		} finally {
			await handle?.close();
		}
	});

	it('§8a: APPEAL_RECOVERY_HOLD_HOURS=0 keeps the immediate rebind', async () => {
		const now = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: storage, ORIGIN, APPEAL_RECOVERY_HOLD_HOURS: '0' }
		});
		const o = await owner();
		const { row, newIdentifier } = await filed(now, o.email);
		expect((await messages(o.email, 'recovery_filed'))[0]).toContain('at once');
		await approve(now, row.id);
		expect((await accountRow(o.id)).email).toBe(newIdentifier);
		expect((await appealRow(row.id)).rebind_due_at).toBeNull();
	});

	it('§7b: the public check shows a frozen account as frozen', async () => {
		const o = await owner();
		await database.db
			.updateTable('accounts')
			.set({ frozen_at: app.clock.now().getTime() })
			.where('id', '=', o.id)
			.execute();
		const report = await (await callEndpoint(check, app, { json: { identifier: o.email } })).json();
		expect(report.tier).toBe('public');
		expect(report.status).toBe('frozen');
		// The recovery field is verified-only: a stranger is not told of an appeal.
		expect(report).not.toHaveProperty('recovery');
	});
});
