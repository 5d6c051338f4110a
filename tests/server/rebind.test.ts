import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { claimAppeal, decideAppeal } from '../../src/lib/server/appeals/decisions';
import { applyDueRebind } from '../../src/lib/server/appeals/recovery';
import {
	confirmContactChange,
	startContactChange
} from '../../src/lib/server/contact-change/change';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import type { Db } from '../../src/lib/server/db/database';
import type { Account } from '../../src/lib/server/db/schema';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { makeAgent } from '../support/agents';
import { fileAppeal, tempStorageDir } from '../support/appeals';
import { latestCode, latestMessage } from '../support/codes';
import { insertAccount, uniqueCnMobile, uniqueEmail } from '../support/factories';

/**
 * R16/R17/R21: `rebindContact` is the one place a bound contact is replaced. The owner's change,
 * an approval without a hold and §8a's due rebind after the hold are three gates in front of it;
 * behind them the rows they leave are the same, and R3's conflict is `identifier_taken` on each.
 */

const PASSWORD = 'a long and quiet river';
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

type App = ReturnType<typeof testAppContext>;
type Path = 'owner' | 'appeal' | 'held appeal';

describe.each(testDatabases)('R16/R17/R21 one rebind on $name', ({ open }) => {
	let database: TestDatabase;
	let storage: string;
	let passwordHash: string;
	beforeAll(async () => {
		database = await open();
		storage = tempStorageDir();
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});

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
			password_hash: passwordHash,
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

	/** R16: the owner starts the change a minute before and confirms it at `REBIND_AT`. */
	async function ownerChange(account: Account, next: string, sessionId: string | null) {
		const early = appAt(REBIND_AT - 60_000);
		const started = await startContactChange(
			early,
			account,
			{ currentPassword: PASSWORD, newIdentifier: next },
			ownerMeta(sessionId)
		);
		expect(started).toMatchObject({ ok: true });
		const code = await latestCode(database.db, next);
		return confirmContactChange(appAt(REBIND_AT), account, { code }, ownerMeta(sessionId));
	}

	/** R19/R21: filed, claimed and approved at `approvedAt` (with §8a's hold when given). */
	async function approvedAppeal(old: string, next: string, approvedAt: number, holdHours = 0) {
		const app = appAt(approvedAt - 60_000, holdHours);
		const filed = await fileAppeal(app, { identifier: old, newIdentifier: next });
		expect(filed.response.status).toBe(201);
		const { reference } = await filed.response.json();
		const appeal = await database.db
			.selectFrom('appeals')
			.selectAll()
			.where('reference', '=', reference)
			.executeTakeFirstOrThrow();
		const agent = await makeAgent(app);
		await claimAppeal(app, agent, appeal.id, { takeOver: false }, agentMeta);
		app.clock.set(new Date(approvedAt));
		return { app, agent, appealId: appeal.id };
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
		expect((await latestMessage(database.db, phone)).purpose).toBe('appeal_approved_old');
		expect((await latestMessage(database.db, seeded.old)).purpose).toBe('appeal_approved_old');
	});
});
