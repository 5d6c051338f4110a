import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	confirmPasswordReset,
	requestPasswordReset
} from '../../src/lib/server/accounts/password-reset';
import { claimAppeal, decideAppeal } from '../../src/lib/server/appeals/decisions';
import { applyDueRebind } from '../../src/lib/server/appeals/recovery';
import {
	confirmContactChange,
	startContactChange
} from '../../src/lib/server/contact-change/change';
import { ContactTaken, isContactTaken } from '../../src/lib/server/contact-change/rebind';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import type { Db } from '../../src/lib/server/db/database';
import { sql, type Transaction } from 'kysely';
import type { Account, Database } from '../../src/lib/server/db/schema';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestApp, testAppContext, type TestApp } from '../support/app-context';
import { makeAgent } from '../support/agents';
import { filedAppeal, gated, openAppealTestApp } from '../support/appeals';
import { fileOf, pngBytes } from '../support/documents';
import { latestCode, latestMessage } from '../support/codes';
import { accountFactory, insertAccount, uniqueCnMobile, uniqueEmail } from '../support/factories';
import { PASSWORD, passwordHashOf } from '../support/signed-in';

/**
 * R16/R17/R21: `rebindContact` is the one place a bound contact is replaced. The owner's change,
 * an approval without a hold and §8a's due rebind after the hold are three gates in front of it;
 * behind them the rows they leave are the same, and R3's conflict is `identifier_taken` on each.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The instant every path's rebind happens, so the rows it writes carry the same times. */
const REBIND_AT = Date.parse('2026-11-26T12:00:00Z');
const agentMeta = { ip: '203.0.113.9' };
const ownerMeta = (sessionId: string | null): RequestMeta & { sessionId: string | null } => ({
	ip: '203.0.113.10',
	ipCountry: null,
	deviceId: 'device-rebind',
	locale: 'en',
	userAgent: null,
	sessionId
});

type App = TestApp;
type Path = 'owner' | 'appeal' | 'held appeal';
type Trx = Transaction<Database>;

/**
 * `app`, whose transactions run `beforeTheWrite` once, just before their first write to
 * `accounts` (in the same transaction, which it is given).
 */
function atTheWrite<T extends App>(app: T, beforeTheWrite: (trx: Trx) => Promise<void>): T {
	let ran = false;
	const once = async (trx: Trx) => {
		if (ran) return;
		ran = true;
		await beforeTheWrite(trx);
	};
	const racedTrx = (trx: Trx): Trx =>
		new Proxy(trx, {
			get(target, prop) {
				const value: unknown = Reflect.get(target, prop, target);
				if (typeof value !== 'function') return value;
				if (prop === 'updateTable')
					return (table: keyof Database) => {
						const builder = target.updateTable(table);
						return table === 'accounts' ? gated(builder, () => once(target)) : builder;
					};
				return value.bind(target);
			}
		});
	const db = new Proxy(app.db, {
		get(target, prop) {
			const value: unknown = Reflect.get(target, prop, target);
			if (typeof value !== 'function') return value;
			if (prop === 'transaction')
				return () => {
					const builder = target.transaction();
					return {
						execute: <R>(work: (trx: Trx) => Promise<R>) =>
							builder.execute((trx) => work(racedTrx(trx)))
					};
				};
			return value.bind(target);
		}
	});
	return { ...app, db };
}

/**
 * R3 raced in: another account takes `contact` after the rebind checked it was free and before
 * it writes. The other account is inserted through the same transaction, just before its first
 * write to `accounts`: to that write it is what a commit from elsewhere is, alike on SQLite (one
 * writer at a time, so the interleaving cannot happen there for real) and PostgreSQL. It rolls
 * back with the rebind.
 */
function takenBeforeTheWrite<T extends App>(app: T, contact: string): T {
	return atTheWrite(app, async (trx) => {
		await trx
			.insertInto('accounts')
			.values(accountFactory({ email: contact }))
			.execute();
	});
}

describe.each(testDatabases)('R16/R17/R21 one rebind on $name', ({ name, open }) => {
	let database: TestDatabase;
	let storage: string;
	beforeAll(async () => ({ database, storage } = await openAppealTestApp(open)));
	afterAll(() => closeTestApp(database));

	/** A context of its own whose clock starts at `at`; `holdHours` is §8a's hold. */
	const appAt = (at: number, holdHours = 0): App =>
		testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: storage, APPEAL_RECOVERY_HOLD_HOURS: String(holdHours) },
			now: new Date(at).toISOString()
		});

	/**
	 * One account as every path finds it: bound to `old`, two sessions, a pending reset code to
	 * it, a check code to it from before the account knew of it, and a used code that stays.
	 */
	async function seededAccount(): Promise<{ account: Account; old: string; sessions: string[] }> {
		const old = uniqueEmail('bound');
		const inserted = await insertAccount(database.db, {
			email: old,
			password_hash: await passwordHashOf(),
			created_at: REBIND_AT - 30 * DAY
		});
		const sessions = [`s-${inserted.id}-1`, `s-${inserted.id}-2`];
		for (const id of sessions)
			await database.db
				.insertInto('sessions')
				.values({
					id,
					account_id: inserted.id,
					created_at: REBIND_AT - 10 * DAY,
					last_active_at: REBIND_AT - 10 * DAY,
					expires_at: REBIND_AT + 20 * DAY,
					ip: null,
					ip_country: null,
					user_agent: null,
					sudo_until: null
				})
				.execute();
		const code = (purpose: 'password_reset' | 'check' | 'register', accountId: string | null) => ({
			id: `c-${purpose}-${inserted.id}`,
			purpose,
			identifier: old,
			code_hash: `hash-${purpose}`,
			created_at: REBIND_AT - 5 * DAY,
			expires_at: REBIND_AT + HOUR,
			account_id: accountId,
			payload: null
		});
		await database.db
			.insertInto('verification_codes')
			.values([
				{ ...code('password_reset', inserted.id), consumed_at: null },
				{ ...code('check', null), consumed_at: null },
				// Used already: no rebind deletes it.
				{ ...code('register', null), id: `c-used-${inserted.id}`, consumed_at: REBIND_AT - DAY }
			])
			.execute();
		const account = await database.db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', inserted.id)
			.executeTakeFirstOrThrow();
		return { account, old, sessions };
	}

	/** R16 step 1, a minute before `REBIND_AT`: the code to the new contact. */
	async function ownerStart(account: Account, next: string, sessionId: string | null) {
		const started = await startContactChange(
			appAt(REBIND_AT - 60_000),
			account,
			{ currentPassword: PASSWORD, newIdentifier: next },
			ownerMeta(sessionId)
		);
		expect(started).toMatchObject({ ok: true });
		return latestCode(database.db, next);
	}

	/** R16 step 2 at `REBIND_AT` (in `app` when given: a context the test arranged). */
	const ownerConfirm = (
		account: Account,
		code: string,
		sessionId: string | null,
		app: App = appAt(REBIND_AT)
	) => confirmContactChange(app, account, { code }, ownerMeta(sessionId));

	async function ownerChange(account: Account, next: string, sessionId: string | null) {
		return ownerConfirm(account, await ownerStart(account, next, sessionId), sessionId);
	}

	/** R19/R21: filed, claimed and approved at `approvedAt` (with §8a's hold when given). */
	async function approvedAppeal(old: string, next: string, approvedAt: number, holdHours = 0) {
		const app = appAt(approvedAt - 60_000, holdHours);
		// One small photo: the documents are not what this file is about, and PDFs cost the most.
		const { row: appeal } = await filedAppeal(app, {
			identifier: old,
			newIdentifier: next,
			files: [fileOf(pngBytes(), 'id.png', 'image/png')]
		});
		const agent = await makeAgent(app);
		await claimAppeal(app, agent, appeal.id, { takeOver: false }, agentMeta);
		app.clock.set(new Date(approvedAt));
		return { app, agent, appealId: appeal.id, reference: appeal.reference };
	}

	const approve = (found: Awaited<ReturnType<typeof approvedAppeal>>) =>
		decideAppeal(found.app, found.agent, found.appealId, { kind: 'approve' }, agentMeta);

	/** Through `path`, the account bound to `old` is rebound to `next` at `REBIND_AT`. */
	async function rebindThrough(path: Path, seeded: Awaited<ReturnType<typeof seededAccount>>) {
		const next = uniqueEmail('next');
		if (path === 'owner') {
			const done = await ownerChange(seeded.account, next, seeded.sessions[0]!);
			expect(done).toMatchObject({ ok: true });
		} else if (path === 'appeal') {
			const found = await approvedAppeal(seeded.old, next, REBIND_AT);
			expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
		} else {
			const found = await approvedAppeal(seeded.old, next, REBIND_AT - 72 * HOUR, 72);
			expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
			expect(await applyDueRebind(appAt(REBIND_AT, 72), found.appealId)).toBe(true);
		}
		return next;
	}

	/**
	 * What the rebind left in the four tables, with the account's own values named by their role
	 * (ids and contacts differ between accounts, nothing else may). Left out, each on purpose: the
	 * history row's kind (`owner` or `appeal`, R21), the code that proved the new contact (the
	 * path's own gate: a `contact_change` or an `appeal` code) and the session the owner changed
	 * from (R17 keeps it; R21 ends every one — asserted on its own below).
	 */
	async function rowsOf(db: Db, accountId: string, roles: Record<string, string>) {
		const named = (value: string | null) => (value === null ? null : (roles[value] ?? value));
		const account = await db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', accountId)
			.executeTakeFirstOrThrow();
		const changes = await db
			.selectFrom('contact_changes')
			.select(['old_identifier', 'new_identifier', 'changed_at'])
			.where('account_id', '=', accountId)
			.execute();
		const sessions = await db
			.selectFrom('sessions')
			.select(['id', 'created_at', 'expires_at'])
			.where('account_id', '=', accountId)
			.execute();
		const codes = await db
			.selectFrom('verification_codes')
			.select(['id', 'purpose', 'identifier', 'consumed_at', 'account_id'])
			.where((eb) =>
				eb.or([eb('account_id', '=', accountId), eb('identifier', 'in', Object.keys(roles))])
			)
			.orderBy('id')
			.execute();
		const { id: _id, ...accountRest } = account;
		return {
			accounts: { ...accountRest, email: named(account.email), phone: named(account.phone) },
			contact_changes: changes.map((change) => ({
				old: named(change.old_identifier),
				new: named(change.new_identifier),
				changedAt: Number(change.changed_at)
			})),
			sessions: sessions.map((session) => ({
				id: session.id.replace(accountId, '<account>'),
				createdAt: Number(session.created_at)
			})),
			verification_codes: codes
				.filter((code) => !(named(code.identifier) === '<new>' && code.consumed_at !== null))
				.map((code) => ({
					id: code.id.replace(accountId, '<account>'),
					purpose: code.purpose,
					identifier: named(code.identifier),
					accountId: code.account_id === accountId ? '<account>' : code.account_id
				}))
		};
	}

	it('R16/R17/R21: the owner’s change, an approval and §8a’s due rebind leave the same rows', async () => {
		const seen: Record<string, Awaited<ReturnType<typeof rowsOf>>> = {};
		const ownSession: Record<string, string[]> = {};
		for (const path of ['owner', 'appeal', 'held appeal'] as const) {
			const seeded = await seededAccount();
			const next = await rebindThrough(path, seeded);
			const rows = await rowsOf(database.db, seeded.account.id, {
				[seeded.old]: '<old>',
				[next]: '<new>'
			});
			// R17 keeps the session the owner changed from; R21 ends every session.
			const kept = `s-<account>-1`;
			ownSession[path] = rows.sessions.filter((s) => s.id === kept).map((s) => s.id);
			seen[path] = { ...rows, sessions: rows.sessions.filter((s) => s.id !== kept) };
		}
		expect(ownSession).toEqual({
			owner: ['s-<account>-1'],
			appeal: [],
			'held appeal': []
		});
		expect(seen['owner']).toMatchObject({
			accounts: { email: '<new>', phone: null, session_epoch: 1, rebind_due_at: null },
			contact_changes: [{ old: '<old>', new: '<new>', changedAt: REBIND_AT }],
			sessions: [],
			// Only the used code survives: the pending reset and check codes to <old> died.
			verification_codes: [
				{ id: 'c-used-<account>', purpose: 'register', identifier: '<old>', accountId: null }
			]
		});
		expect(seen['appeal']).toEqual(seen['owner']);
		expect(seen['held appeal']).toEqual(seen['owner']);
	});

	it('R21: the lost contact the owner replaced while the appeal was open is unbound too: the account is bound to the new contact alone', async () => {
		const seeded = await seededAccount();
		const next = uniqueEmail('next');
		const found = await approvedAppeal(seeded.old, next, REBIND_AT);
		// R16: the holder swaps the email the appeal names for a phone number before the decision.
		const phone = uniqueCnMobile();
		expect(await ownerChange(seeded.account, phone, seeded.sessions[0]!)).toMatchObject({
			ok: true
		});
		expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
		const account = await database.db
			.selectFrom('accounts')
			.select(['email', 'phone'])
			.where('id', '=', seeded.account.id)
			.executeTakeFirstOrThrow();
		expect(account).toEqual({ email: next, phone: null });
		// R17/R21: the number bound until now is told, as the lost contact is.
		for (const contact of [phone, seeded.old])
			expect((await latestMessage(database.db, contact, 'appeal_approved_old')).text).toContain(
				found.reference
			);
	});

	const contactsOf = (accountId: string) =>
		database.db
			.selectFrom('accounts')
			.select(['email', 'phone'])
			.where('id', '=', accountId)
			.executeTakeFirstOrThrow();
	/** R18: the codes to `identifiers` nobody has used yet. */
	const pendingCodesTo = (identifiers: string[]) =>
		database.db
			.selectFrom('verification_codes')
			.select('id')
			.where('identifier', 'in', identifiers)
			.where('consumed_at', 'is', null)
			.execute();
	const messagesTo = (recipient: string, purpose: string) =>
		database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', recipient)
			.where('purpose', '=', purpose)
			.execute();

	it('R21: an account bound to both an email and a phone loses both to the appeal, and both are told', async () => {
		const seeded = await seededAccount();
		// Left by the earlier R21 (the lost contact kept when the new one was of the other kind).
		const phone = uniqueCnMobile();
		await database.db
			.updateTable('accounts')
			.set({ phone })
			.where('id', '=', seeded.account.id)
			.execute();
		const next = uniqueEmail('next');
		const found = await approvedAppeal(phone, next, REBIND_AT);
		expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
		expect(await contactsOf(seeded.account.id)).toEqual({ email: next, phone: null });
		// R17/R21: the named phone and the email overwritten with it both hear of the approval.
		for (const contact of [phone, seeded.old])
			expect((await latestMessage(database.db, contact, 'appeal_approved_old')).text).toContain(
				found.reference
			);
		// R18: neither keeps a pending code (the seeded reset and check codes to the email died).
		expect(await pendingCodesTo([phone, seeded.old])).toEqual([]);
	});

	it('R21/R3: the lost contact another account has bound since the filing keeps its codes and hears nothing of the appeal', async () => {
		const seeded = await seededAccount();
		const next = uniqueEmail('next');
		const found = await approvedAppeal(seeded.old, next, REBIND_AT);
		// R16: the holder moves off the named email; then another account registers it.
		const phone = uniqueCnMobile();
		expect(await ownerChange(seeded.account, phone, seeded.sessions[0]!)).toMatchObject({
			ok: true
		});
		const other = await insertAccount(database.db, { email: seeded.old });
		// R18: the other account's holder asks for a reset code before the approval.
		const asked = await requestPasswordReset(
			appAt(REBIND_AT - 30_000),
			{ identifier: seeded.old },
			ownerMeta(null)
		);
		expect(asked).toMatchObject({ ok: true });
		const resetCode = await latestCode(database.db, seeded.old, 'password_reset');
		expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
		expect(await contactsOf(seeded.account.id)).toEqual({ email: next, phone: null });
		expect(await contactsOf(other.id)).toEqual({ email: seeded.old, phone: null });
		// The other account's pending reset code still works.
		expect(
			await confirmPasswordReset(
				appAt(REBIND_AT + 60_000),
				{ identifier: seeded.old, code: resetCode, newPassword: 'another long and quiet river' },
				ownerMeta(null)
			)
		).toEqual({ ok: true });
		// R21: the number the appealed account had until now is told; the other account's holder is not.
		expect((await latestMessage(database.db, phone, 'appeal_approved_old')).text).toContain(
			found.reference
		);
		expect(await messagesTo(seeded.old, 'appeal_approved_old')).toEqual([]);
	});

	it('R3: only a unique violation of the accounts’ email or phone is identifier_taken', async () => {
		const violation = async (write: () => Promise<unknown>) => {
			try {
				await write();
			} catch (error) {
				return error;
			}
			throw new Error('the write met no constraint');
		};
		const taken = await insertAccount(database.db, { phone: uniqueCnMobile() });
		const sameEmail = await violation(() => insertAccount(database.db, { email: taken.email }));
		const samePhone = await violation(() => insertAccount(database.db, { phone: taken.phone }));
		const sameId = await violation(() => insertAccount(database.db, { id: taken.id }));
		const sameSession = await violation(async () => {
			const session = {
				id: `s-twice-${taken.id}`,
				account_id: taken.id!,
				created_at: REBIND_AT,
				last_active_at: REBIND_AT,
				expires_at: REBIND_AT + DAY,
				ip: null,
				ip_country: null,
				user_agent: null,
				sudo_until: null
			};
			await database.db.insertInto('sessions').values(session).execute();
			await database.db.insertInto('sessions').values(session).execute();
		});
		expect([sameEmail, samePhone, sameId, sameSession].map(isContactTaken)).toEqual([
			true,
			true,
			false,
			false
		]);
		expect(isContactTaken(new ContactTaken())).toBe(true);
	});

	if (name === 'postgres')
		describe('R16/R21/R24 on PostgreSQL: the held rebind and the owner’s change at the same moment', () => {
			/**
			 * Resolves once a connection waits on a lock `pid` holds (PostgreSQL's own account of who
			 * blocks whom), or once `settled` does: no timer decides the order.
			 */
			async function waitsOn(pid: number, settled: Promise<unknown>): Promise<void> {
				let done = false;
				void settled.finally(() => {
					done = true;
				});
				while (!done) {
					const { rows } = await sql<{ waiting: number }>`
						select count(*)::int as waiting from pg_stat_activity
						where ${pid} = any(pg_blocking_pids(pid))`.execute(database.db);
					if (rows[0]!.waiting > 0) return;
				}
			}

			it('R16/R24: the rebind holds the account row; the owner’s change behind it is refused by the 7 days, and the account is bound to the new contact alone', async () => {
				const seeded = await seededAccount();
				const next = uniqueEmail('next');
				const found = await approvedAppeal(seeded.old, next, REBIND_AT - 72 * HOUR, 72);
				expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
				// A thief with the password starts a change to a phone number during the hold…
				const phone = uniqueCnMobile();
				const code = await ownerStart(seeded.account, phone, seeded.sessions[0]!);
				// …and confirms it on another connection just as the due rebind is about to write.
				let confirmed: ReturnType<typeof ownerConfirm> | undefined;
				const app = atTheWrite(appAt(REBIND_AT, 72), async (trx) => {
					const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
					confirmed = ownerConfirm(seeded.account, code, seeded.sessions[0]!);
					// Either the change waits on the rebind's lock, or (without one) it is done.
					await Promise.race([confirmed, waitsOn(rows[0]!.pid, confirmed)]);
				});
				expect(await applyDueRebind(app, found.appealId)).toBe(true);
				expect(await confirmed).toMatchObject({ status: 409, code: 'change_too_soon' });
				expect(await contactsOf(seeded.account.id)).toEqual({ email: next, phone: null });
				// R21: the thief's unused code to the number died with the rebind (every code of the account).
				expect(await pendingCodesTo([phone])).toEqual([]);
			});
		});

	const auditActions = async (subjectId: string) =>
		(
			await database.db
				.selectFrom('audit_events')
				.select(['action', 'details'])
				.where('subject_id', '=', subjectId)
				.orderBy('id')
				.execute()
		).map((event) => ({ action: event.action, details: JSON.parse(event.details ?? 'null') }));

	describe.each(['found by the check', 'raced in between the check and the write'] as const)(
		'R3: the new contact is another account’s, %s',
		(timing) => {
			/** `app`, where another account holds `next` the way `timing` says. */
			const takenIn = async (app: App, next: string): Promise<App> => {
				if (timing !== 'found by the check') return takenBeforeTheWrite(app, next);
				await insertAccount(database.db, { email: next });
				return app;
			};
			const contactOf = async (accountId: string) => ({
				account: await database.db
					.selectFrom('accounts')
					.select(['email', 'phone', 'session_epoch'])
					.where('id', '=', accountId)
					.executeTakeFirstOrThrow(),
				changes: await database.db
					.selectFrom('contact_changes')
					.select('id')
					.where('account_id', '=', accountId)
					.execute()
			});
			const unchanged = (old: string) => ({
				account: { email: old, phone: null, session_epoch: 0 },
				changes: []
			});

			it('R16: the owner’s confirm is 409 identifier_taken on the code; nothing changes and the code stays usable', async () => {
				const seeded = await seededAccount();
				const next = uniqueEmail('next');
				const code = await ownerStart(seeded.account, next, seeded.sessions[0]!);
				const app = await takenIn(appAt(REBIND_AT), next);
				expect(await ownerConfirm(seeded.account, code, seeded.sessions[0]!, app)).toMatchObject({
					status: 409,
					code: 'identifier_taken',
					field: 'code'
				});
				expect(await contactOf(seeded.account.id)).toEqual(unchanged(seeded.old));
				if (timing !== 'found by the check') {
					// Rolled back with the other account: the same code now changes the contact.
					expect(await ownerConfirm(seeded.account, code, seeded.sessions[0]!)).toMatchObject({
						ok: true
					});
				}
			});

			it('R21: the approval is 409 identifier_taken and the appeal stays in review', async () => {
				const seeded = await seededAccount();
				const next = uniqueEmail('next');
				const found = await approvedAppeal(seeded.old, next, REBIND_AT);
				const app = await takenIn(found.app, next);
				expect(
					await decideAppeal(app, found.agent, found.appealId, { kind: 'approve' }, agentMeta)
				).toMatchObject({
					status: 409,
					code: 'identifier_taken'
				});
				expect(await contactOf(seeded.account.id)).toEqual(unchanged(seeded.old));
				const appeal = await database.db
					.selectFrom('appeals')
					.select(['status', 'decided_at', 'rebound_at'])
					.where('id', '=', found.appealId)
					.executeTakeFirstOrThrow();
				expect(appeal).toEqual({ status: 'in_review', decided_at: null, rebound_at: null });
			});

			it('R24/R3: the rebind after the hold is refused once (appeal.rebind_refused, identifier_taken); nothing changes', async () => {
				const seeded = await seededAccount();
				const next = uniqueEmail('next');
				const found = await approvedAppeal(seeded.old, next, REBIND_AT - 72 * HOUR, 72);
				expect(await approve(found)).toEqual({ ok: true, outcome: 'approved' });
				const app = await takenIn(appAt(REBIND_AT, 72), next);
				expect(await applyDueRebind(app, found.appealId)).toBe(false);
				expect(await applyDueRebind(appAt(REBIND_AT, 72), found.appealId)).toBe(false);
				expect(await contactOf(seeded.account.id)).toEqual(unchanged(seeded.old));
				const appeal = await database.db
					.selectFrom('appeals')
					.select(['status', 'rebind_due_at', 'rebound_at'])
					.where('id', '=', found.appealId)
					.executeTakeFirstOrThrow();
				expect(appeal).toEqual({ status: 'approved', rebind_due_at: null, rebound_at: null });
				const account = await database.db
					.selectFrom('accounts')
					.select('rebind_due_at')
					.where('id', '=', seeded.account.id)
					.executeTakeFirstOrThrow();
				expect(account.rebind_due_at).toBeNull();
				const refusals = (await auditActions(found.appealId)).filter(
					(event) => event.action === 'appeal.rebind_refused'
				);
				expect(refusals).toEqual([
					{ action: 'appeal.rebind_refused', details: { reason: 'identifier_taken' } }
				]);
			});
		}
	);
});
