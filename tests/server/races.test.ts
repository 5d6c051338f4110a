import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	assignAppeal,
	claimAppeal,
	decideAppeal,
	type Decision
} from '../../src/lib/server/appeals/decisions';
import { answerAppeal } from '../../src/lib/server/appeals/status';
import type { Failure } from '../../src/lib/server/core/failures';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { makeAgent } from '../support/agents';
import { fileAppeal, tempStorageDir, writesAfter } from '../support/appeals';
import { jpegBytes } from '../support/documents';
import { insertAccount } from '../support/factories';

/**
 * R21: two agents (or one agent in two tabs) decide one appeal at the same moment.
 * Exactly one decision lands; the other gets a clear 409 with a stable code; the rebind writes
 * one contact-change row and one set of notices. Code confirmations and registrations racing are
 * proven in verification-codes / registration / contact-change tests and not repeated here.
 */

const meta = { ip: '203.0.113.7' };
const ROUNDS = 8;
const LOSER_CODES = [
	'appeal_decided',
	'appeal_wrong_status',
	'appeal_not_claimed',
	'appeal_claimed'
];
const reject: Decision = { kind: 'reject', reason: 'The documents belong to someone else.' };
const approve: Decision = { kind: 'approve' };

describe.each(testDatabases)('R21 decision races on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		// These races are about the decision and the rebind it makes: no §8a hold here (its own
		// races, cancel vs rebind and two instances, are in recovery-hold.test.ts).
		app = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: tempStorageDir(), APPEAL_RECOVERY_HOLD_HOURS: '0' }
		});
	});
	afterAll(() => database.dispose());

	async function claimedAppeal() {
		const account = await insertAccount(database.db);
		const filed = await fileAppeal(app, { identifier: account.email! });
		expect(filed.response.status).toBe(201);
		const { reference, statusToken } = (await filed.response.json()) as {
			reference: string;
			statusToken: string;
		};
		const row = await database.db
			.selectFrom('appeals')
			.selectAll()
			.where('reference', '=', reference)
			.executeTakeFirstOrThrow();
		const [a, b] = [await makeAgent(app), await makeAgent(app)];
		expect(await claimAppeal(app, a, row.id, { takeOver: false }, meta)).toEqual({ ok: true });
		return {
			account,
			row,
			a,
			b,
			newIdentifier: filed.newIdentifier,
			access: { reference, statusToken }
		};
	}

	/** R19: the person answers a needs-info request with one more document. */
	const answer = (access: { reference: string; statusToken: string }) =>
		answerAppeal(
			app,
			access,
			{ message: 'Here is the back.' },
			[{ name: 'back.jpg', declaredType: 'image/jpeg', bytes: jpegBytes({ metadata: true }) }],
			{ ...meta, ipCountry: null, deviceId: 'd', locale: 'en', userAgent: null }
		);
	const appealRow = (id: string) =>
		database.db.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
	const strictApp = () => ({
		...app,
		config: { ...app.config, appeals: { ...app.config.appeals, requireSecondApproval: true } }
	});
	function expectLost(result: { ok: boolean } | Failure, code?: string) {
		expect(result).toMatchObject({ ok: false, status: 409 });
		expect(LOSER_CODES).toContain((result as Failure).code);
		if (code) expect((result as Failure).code).toBe(code);
	}

	/** What the database says after the race: one truth, whoever won. */
	async function outcome(
		appealId: string,
		accountId: string,
		oldIdentifier: string,
		newIdentifier: string
	) {
		const appeal = await database.db
			.selectFrom('appeals')
			.selectAll()
			.where('id', '=', appealId)
			.executeTakeFirstOrThrow();
		const changes = await database.db
			.selectFrom('contact_changes')
			.selectAll()
			.where('account_id', '=', accountId)
			.execute();
		const account = await database.db
			.selectFrom('accounts')
			.select(['email', 'phone'])
			.where('id', '=', accountId)
			.executeTakeFirstOrThrow();
		const notices = async (to: string) =>
			(
				await database.db
					.selectFrom('outbox')
					.select('purpose')
					.where('recipient', '=', to)
					.execute()
			)
				.map((r) => r.purpose)
				.filter((p) => p.startsWith('appeal_'))
				.sort();
		const audits = (
			await database.db
				.selectFrom('audit_events')
				.select('action')
				.where('subject_id', '=', appealId)
				.execute()
		).map((r) => r.action);
		const messages = await database.db
			.selectFrom('appeal_messages')
			.select('body')
			.where('appeal_id', '=', appealId)
			.execute();
		return {
			appeal,
			changes,
			account,
			toNew: await notices(newIdentifier),
			toOld: await notices(oldIdentifier),
			audits,
			messages
		};
	}

	function expectOneWinner(results: ({ ok: true; outcome: string } | Failure)[]) {
		const winners = results.filter((r) => r.ok);
		const losers = results.filter((r): r is Failure => !r.ok);
		expect(winners).toHaveLength(1);
		expect(losers).toHaveLength(results.length - 1);
		for (const loser of losers) {
			expect(loser.status).toBe(409);
			expect(LOSER_CODES).toContain(loser.code);
			expect(loser.message.length).toBeGreaterThan(10);
		}
		return winners[0] as { ok: true; outcome: string };
	}

	async function expectApprovedOnce(
		state: Awaited<ReturnType<typeof outcome>>,
		newIdentifier: string
	) {
		expect(state.appeal.status).toBe('approved');
		expect(state.changes).toHaveLength(1);
		expect(state.changes[0]).toMatchObject({ kind: 'appeal', new_identifier: newIdentifier });
		expect(state.account.email).toBe(newIdentifier);
		expect(state.toNew).toEqual(['appeal_approved_new', 'appeal_received']);
		expect(state.toOld).toEqual(['appeal_approved_old']);
		expect(state.audits.filter((a) => a === 'appeal.approved')).toHaveLength(1);
		expect(state.audits).not.toContain('appeal.rejected');
	}

	async function expectRejectedOnce(
		state: Awaited<ReturnType<typeof outcome>>,
		oldIdentifier: string
	) {
		expect(state.appeal.status).toBe('rejected');
		expect(state.changes).toHaveLength(0);
		expect(state.account.email).toBe(oldIdentifier);
		expect(state.toNew).toEqual(['appeal_received', 'appeal_rejected']);
		expect(state.toOld).toEqual([]);
		expect(state.messages).toHaveLength(1);
		expect(state.audits.filter((a) => a === 'appeal.rejected')).toHaveLength(1);
		expect(state.audits).not.toContain('appeal.approved');
	}

	it(`R21: approve (agent A) vs take-over + reject (agent B) at the same time, ${ROUNDS} rounds → one winner`, async () => {
		for (let round = 0; round < ROUNDS; round += 1) {
			const { account, row, a, b, newIdentifier } = await claimedAppeal();
			const bSide = async () => {
				const claimed = await claimAppeal(app, b, row.id, { takeOver: true }, meta);
				return claimed.ok ? decideAppeal(app, b, row.id, reject, meta) : claimed;
			};
			// Alternate who starts first so both interleavings are exercised.
			const results =
				round % 2 === 0
					? await Promise.all([decideAppeal(app, a, row.id, approve, meta), bSide()])
					: (await Promise.all([bSide(), decideAppeal(app, a, row.id, approve, meta)])).reverse();
			const winner = expectOneWinner(results);
			const state = await outcome(row.id, account.id, account.email!, newIdentifier);
			if (winner.outcome === 'approved') await expectApprovedOnce(state, newIdentifier);
			else await expectRejectedOnce(state, account.email!);
		}
	});

	it(`R21: one agent's approve vs reject from two tabs at the same time, ${ROUNDS} rounds → one winner`, async () => {
		for (let round = 0; round < ROUNDS; round += 1) {
			const { account, row, a, newIdentifier } = await claimedAppeal();
			const calls = [
				decideAppeal(app, a, row.id, approve, meta),
				decideAppeal(app, a, row.id, reject, meta)
			];
			const winner = expectOneWinner(
				round % 2 === 0 ? await Promise.all(calls) : await Promise.all(calls.reverse())
			);
			const state = await outcome(row.id, account.id, account.email!, newIdentifier);
			if (winner.outcome === 'approved') await expectApprovedOnce(state, newIdentifier);
			else await expectRejectedOnce(state, account.email!);
		}
	});

	it(`R21: approve vs approve (same agent twice, and B taking over to approve), ${ROUNDS} rounds → one rebind, one notice set`, async () => {
		for (let round = 0; round < ROUNDS; round += 1) {
			const { account, row, a, b, newIdentifier } = await claimedAppeal();
			const bSide = async () => {
				const claimed = await claimAppeal(app, b, row.id, { takeOver: true }, meta);
				return claimed.ok ? decideAppeal(app, b, row.id, approve, meta) : claimed;
			};
			const results = await Promise.all([
				decideAppeal(app, a, row.id, approve, meta),
				decideAppeal(app, a, row.id, approve, meta),
				bSide()
			]);
			const winner = expectOneWinner(results);
			expect(winner.outcome).toBe('approved');
			await expectApprovedOnce(
				await outcome(row.id, account.id, account.email!, newIdentifier),
				newIdentifier
			);
		}
	});

	it('R21: with a second approval required, two agents giving the second approval at once → one rebind', async () => {
		const strict = {
			...app,
			config: { ...app.config, appeals: { ...app.config.appeals, requireSecondApproval: true } }
		};
		for (let round = 0; round < ROUNDS / 2; round += 1) {
			const { account, row, a, b, newIdentifier } = await claimedAppeal();
			expect(await decideAppeal(strict, a, row.id, approve, meta)).toEqual({
				ok: true,
				outcome: 'awaiting_second_approval'
			});
			const c = await makeAgent(app);
			const second = async (agent: typeof b) => {
				const claimed = await claimAppeal(strict, agent, row.id, { takeOver: true }, meta);
				return claimed.ok ? decideAppeal(strict, agent, row.id, approve, meta) : claimed;
			};
			const results = await Promise.all([second(b), second(c)]);
			const approvedCount = results.filter((r) => r.ok && r.outcome === 'approved').length;
			// Both may lose to each other's take-over (then nobody approved yet, and a retry decides);
			// never may both approve.
			expect(approvedCount).toBeLessThanOrEqual(1);
			for (const r of results) if (!r.ok) expect(LOSER_CODES).toContain(r.code);
			const state = await outcome(row.id, account.id, account.email!, newIdentifier);
			expect(state.changes.length).toBe(approvedCount);
			if (approvedCount === 1) await expectApprovedOnce(state, newIdentifier);
			else expect(state.appeal.status).toBe('in_review');
		}
	});

	/*
	 * Every state change of an appeal is a compare-and-set on the status (and the claim) it read.
	 * `writesAfter` runs the other party's whole operation between one side's reads and its first
	 * write: the exact interleaving of the issue, on both databases, every time.
	 */

	it('R21: assign reads → the approval commits → assign writes: 409 appeal_decided, and nobody can approve it again', async () => {
		const { account, row, a, b, newIdentifier } = await claimedAppeal();
		const admin = await makeAgent(app, 'admin');
		let approval: unknown;
		const assigning = writesAfter(app, async () => {
			approval = await decideAppeal(app, a, row.id, approve, meta);
		});
		const assigned = await assignAppeal(assigning, admin, row.id, b.id, meta);
		expect(approval).toEqual({ ok: true, outcome: 'approved' });
		// The new assignee tries to approve what is already approved: a second rebind, a second R16 entry.
		const again = await decideAppeal(app, b, row.id, approve, meta);
		await expectApprovedOnce(
			await outcome(row.id, account.id, account.email!, newIdentifier),
			newIdentifier
		);
		expectLost(again, 'appeal_decided');
		expectLost(assigned, 'appeal_decided');
		expect(await appealRow(row.id)).toMatchObject({
			status: 'approved',
			assigned_agent_id: a.id,
			decided_by: a.id
		});
	});

	it(`R21: approve vs an admin assigning the appeal to another agent at the same time, ${ROUNDS} rounds → decided once`, async () => {
		const admin = await makeAgent(app, 'admin');
		for (let round = 0; round < ROUNDS; round += 1) {
			const { account, row, a, b, newIdentifier } = await claimedAppeal();
			const calls = [
				() => decideAppeal(app, a, row.id, approve, meta),
				() => assignAppeal(app, admin, row.id, b.id, meta)
			];
			const raced =
				round % 2 === 0
					? await Promise.all(calls.map((f) => f()))
					: (await Promise.all([...calls].reverse().map((f) => f()))).reverse();
			// Whoever holds the appeal afterwards approves too; only one approval may ever land.
			const after = await Promise.all([
				decideAppeal(app, a, row.id, approve, meta),
				decideAppeal(app, b, row.id, approve, meta)
			]);
			for (const result of [...raced, ...after]) if (!result.ok) expectLost(result);
			const state = await outcome(row.id, account.id, account.email!, newIdentifier);
			await expectApprovedOnce(state, newIdentifier);
			expect(
				[...raced, ...after].filter((r) => r.ok && 'outcome' in r && r.outcome === 'approved')
			).toHaveLength(1);
		}
	});

	it('R19: assign reads a waiting appeal → the person answers → assign writes: 409, and the answer is not undone', async () => {
		const { row, a, b, access } = await claimedAppeal();
		const admin = await makeAgent(app, 'admin');
		expect(
			await decideAppeal(
				app,
				a,
				row.id,
				{ kind: 'needs_info', reason: 'Please add the back of the card.' },
				meta
			)
		).toEqual({ ok: true, outcome: 'needs_info' });
		let answered: unknown;
		const assigning = writesAfter(app, async () => {
			answered = await answer(access);
		});
		const assigned = await assignAppeal(assigning, admin, row.id, b.id, meta);
		expect(answered).toEqual({ ok: true });
		expect(await appealRow(row.id)).toMatchObject({ status: 'in_review', assigned_agent_id: a.id });
		expectLost(assigned, 'appeal_wrong_status');
	});

	it('R21: a rejection read while the appeal waited does not land on the answer that arrived meanwhile', async () => {
		const { row, a, access } = await claimedAppeal();
		expect(
			await decideAppeal(
				app,
				a,
				row.id,
				{ kind: 'needs_info', reason: 'Please add the back of the card.' },
				meta
			)
		).toEqual({ ok: true, outcome: 'needs_info' });
		const rejecting = writesAfter(app, () => answer(access));
		const rejected = await decideAppeal(rejecting, a, row.id, reject, meta);
		expect(await appealRow(row.id)).toMatchObject({ status: 'in_review', decided_at: null });
		expectLost(rejected, 'appeal_wrong_status');
	});

	it('R21: take-over reads → the approval commits → take-over writes: 409 appeal_decided', async () => {
		const { account, row, a, b, newIdentifier } = await claimedAppeal();
		const claiming = writesAfter(app, () => decideAppeal(app, a, row.id, approve, meta));
		const claimed = await claimAppeal(claiming, b, row.id, { takeOver: true }, meta);
		await expectApprovedOnce(
			await outcome(row.id, account.id, account.email!, newIdentifier),
			newIdentifier
		);
		expect((await appealRow(row.id)).assigned_agent_id).toBe(a.id);
		expectLost(claimed, 'appeal_decided');
	});

	it('R21 (second approval): a first approval read before another agent took the appeal over does not land', async () => {
		const strict = strictApp();
		const { row, a, b } = await claimedAppeal();
		const approving = writesAfter(strict, () =>
			claimAppeal(strict, b, row.id, { takeOver: true }, meta)
		);
		const first = await decideAppeal(approving, a, row.id, approve, meta);
		expect(await appealRow(row.id)).toMatchObject({
			status: 'in_review',
			assigned_agent_id: b.id,
			first_approval_by: null
		});
		expectLost(first);
		// So b's approval is a first approval, not a silent second one.
		expect(await decideAppeal(strict, b, row.id, approve, meta)).toEqual({
			ok: true,
			outcome: 'awaiting_second_approval'
		});
	});

	it('R21 (second approval): a second approval read before a needs-info round does not approve the fresh review', async () => {
		const strict = strictApp();
		const { account, row, a, b, access } = await claimedAppeal();
		expect(await decideAppeal(strict, a, row.id, approve, meta)).toEqual({
			ok: true,
			outcome: 'awaiting_second_approval'
		});
		expect(await claimAppeal(strict, b, row.id, { takeOver: true }, meta)).toEqual({ ok: true });
		// b's other tab asks for more; the answer arrives; the first approval is gone with it.
		const approving = writesAfter(strict, async () => {
			expect(
				await decideAppeal(
					strict,
					b,
					row.id,
					{ kind: 'needs_info', reason: 'Please add the back of the card.' },
					meta
				)
			).toMatchObject({ ok: true });
			expect(await answer(access)).toEqual({ ok: true });
		});
		const second = await decideAppeal(approving, b, row.id, approve, meta);
		expect(await appealRow(row.id)).toMatchObject({
			status: 'in_review',
			decided_at: null,
			first_approval_by: null
		});
		expect(
			await database.db
				.selectFrom('contact_changes')
				.select('id')
				.where('account_id', '=', account.id)
				.execute()
		).toHaveLength(0);
		expectLost(second, 'appeal_wrong_status');
	});
});
