import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAgent, disableAgent } from '../../src/lib/server/support/agents';
import {
	AGENT_SESSION_IDLE_TIMEOUT_MS,
	createAgentSession,
	generateAgentSessionToken,
	validateAgentSessionToken
} from '../../src/lib/server/support/agent-sessions';
import { claimAppeal, decideAppeal } from '../../src/lib/server/appeals/decisions';
import { appealForAgent, listQueue } from '../../src/lib/server/appeals/queue';
import { purgeExpiredDocuments } from '../../src/lib/server/retention/documents';
import { answerAppeal, appealStatus } from '../../src/lib/server/appeals/status';
import { contactChangeQuota } from '../../src/lib/server/contact-change/quota';
import { createSession, generateSessionToken } from '../../src/lib/server/accounts/sessions';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { makeAgent, requestDocument, statusOf } from '../support/agents';
import { fileAppeal, nextAddress, tempStorageDir } from '../support/appeals';
import { latestCode } from '../support/codes';
import { jpegBytes } from '../support/documents';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import type { Agent } from '../../src/lib/server/support/agents';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import {
	actions as appealActions,
	load as appealPage
} from '../../src/routes/support/appeals/[id]/+page.server';
import { load as queuePage } from '../../src/routes/support/+page.server';

const HOUR = 3_600_000;
const meta = { ip: '203.0.113.9' };

describe.each(testDatabases)('support console on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let dir: string;
	beforeAll(async () => {
		database = await open();
		dir = tempStorageDir();
		// The console's decisions and the rebind they make; §8a's hold is in recovery-hold.test.ts.
		app = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: dir, APPEAL_RECOVERY_HOLD_HOURS: '0' }
		});
	});
	afterAll(() => database.dispose());

	async function newAppeal(identifier?: string) {
		const account = identifier ? undefined : await insertAccount(database.db);
		const filed = await fileAppeal(app, { identifier: identifier ?? account!.email! });
		const body = await filed.response.json();
		const row = await database.db
			.selectFrom('appeals')
			.selectAll()
			.where('reference', '=', body.reference)
			.executeTakeFirstOrThrow();
		return { account, row, ...body, newIdentifier: filed.newIdentifier } as {
			account: typeof account;
			row: typeof row;
			reference: string;
			statusToken: string;
			newIdentifier: string;
		};
	}
	/** A form post to the appeal page's action `name`, as the signed-in `agent` (R22: checked in the action). */
	function act(
		ctx: typeof app,
		name: 'approve' | 'reject' | 'claim',
		agent: Agent,
		appealId: string,
		fields: Record<string, string> = {}
	) {
		const body = new FormData();
		for (const [k, v] of Object.entries(fields)) body.append(k, v);
		const action = appealActions[name]!;
		return callEndpoint(
			(event: Parameters<typeof action>[0]) => {
				event.locals.agent = agent;
				return action({ ...event, params: { id: appealId } });
			},
			ctx,
			{ path: `/support/appeals/${appealId}?/${name}`, body, clientAddress: nextAddress() }
		) as Promise<Record<string, unknown>>;
	}
	const emailOf = async (accountId: string) =>
		(
			await database.db
				.selectFrom('accounts')
				.select('email')
				.where('id', '=', accountId)
				.executeTakeFirstOrThrow()
		).email;
	const auditActions = async (subjectId: string) =>
		(
			await database.db
				.selectFrom('audit_events')
				.select('action')
				.where('subject_id', '=', subjectId)
				.orderBy('id')
				.execute()
		).map((r) => r.action);

	it('R22: an agent signs in with password + TOTP; a wrong or replayed code is refused alike', async () => {
		const agent = await makeAgent(app);
		const code = agent.totp();
		expect(
			await signInAgent(
				app,
				{
					username: agent.username,
					password: 'a quiet support desk at dawn',
					otp: '000000' === code ? '111111' : '000000'
				},
				meta
			)
		).toMatchObject({ ok: false, code: 'invalid_credentials' });
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'wrong password entirely', otp: code },
				meta
			)
		).toMatchObject({ ok: false, code: 'invalid_credentials' });
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'a quiet support desk at dawn', otp: code },
				meta
			)
		).toMatchObject({ ok: true, agent: { id: agent.id } });
		// The same code again (a replay) is refused.
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'a quiet support desk at dawn', otp: code },
				meta
			)
		).toMatchObject({ ok: false });
		app.clock.advance(30_000);
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'a quiet support desk at dawn', otp: agent.totp() },
				meta
			)
		).toMatchObject({ ok: true });
	});

	it('R22: five failures lock the username for 15 minutes (429)', async () => {
		const agent = await makeAgent(app);
		for (let i = 0; i < 5; i += 1)
			await signInAgent(
				app,
				{ username: agent.username, password: 'nope nope nope', otp: '123456' },
				{ ip: `198.51.100.${i}` }
			);
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'a quiet support desk at dawn', otp: agent.totp() },
				{ ip: '198.51.100.99' }
			)
		).toMatchObject({ ok: false, code: 'rate_limited' });
		app.clock.advance(15 * 60_000 + 1000);
		expect(
			await signInAgent(
				app,
				{ username: agent.username, password: 'a quiet support desk at dawn', otp: agent.totp() },
				{ ip: '198.51.100.99' }
			)
		).toMatchObject({ ok: true });
	});

	it('R22: agent sessions end after 30 idle minutes, and when the agent is disabled', async () => {
		const agent = await makeAgent(app);
		const deps = app;
		const token = generateAgentSessionToken();
		await createAgentSession(deps, token, agent.id, null);
		app.clock.advance(AGENT_SESSION_IDLE_TIMEOUT_MS - 1000);
		expect((await validateAgentSessionToken(deps, token)).agent?.id).toBe(agent.id);
		app.clock.advance(AGENT_SESSION_IDLE_TIMEOUT_MS);
		expect((await validateAgentSessionToken(deps, token)).agent).toBeNull();
		const again = generateAgentSessionToken();
		await createAgentSession(deps, again, agent.id, null);
		await disableAgent(app, agent.username);
		expect((await validateAgentSessionToken(deps, again)).agent).toBeNull();
	});

	it('R20: the queue sorts by due time and its overdue / due-within-6-h marks follow the clock', async () => {
		const agent = await makeAgent(app);
		const first = await newAppeal();
		app.clock.advance(HOUR);
		const second = await newAppeal();
		const queue = async () =>
			(await listQueue(app, agent)).filter((i) =>
				[first.reference, second.reference].includes(i.reference)
			);
		expect((await queue()).map((i) => [i.reference, i.urgency])).toEqual([
			[first.reference, 'on_time'],
			[second.reference, 'on_time']
		]);
		app.clock.advance(41 * HOUR + 1); // first: 42 h old → due within 6 h
		expect((await queue()).map((i) => i.urgency)).toEqual(['due_soon', 'on_time']);
		app.clock.advance(6 * HOUR); // first: 48 h → overdue; second: 47 h → due soon
		expect((await queue()).map((i) => i.urgency)).toEqual(['overdue', 'due_soon']);
		expect((await queue())[0]!.dueAt).toBe(
			new Date(first.row.created_at + 48 * HOUR).toISOString()
		);
	});

	it('R20: claiming stops a second agent from working the appeal unknowingly; taking over is audited', async () => {
		const [a, b] = [await makeAgent(app), await makeAgent(app)];
		const { row } = await newAppeal();
		expect(await claimAppeal(app, a, row.id, { takeOver: false }, meta)).toEqual({ ok: true });
		expect(await claimAppeal(app, b, row.id, { takeOver: false }, meta)).toMatchObject({
			ok: false,
			code: 'appeal_claimed',
			message: expect.stringContaining(a.username)
		});
		expect(
			await decideAppeal(
				app,
				b,
				row.id,
				{ kind: 'reject', reason: 'Documents do not match.' },
				meta
			)
		).toMatchObject({ ok: false, code: 'appeal_not_claimed' });
		expect(await claimAppeal(app, b, row.id, { takeOver: true }, meta)).toEqual({ ok: true });
		expect(await auditActions(row.id)).toEqual([
			'appeal.submitted',
			'appeal.claimed',
			'appeal.taken_over'
		]);
		expect((await listQueue(app, b, 'mine')).map((i) => i.reference)).toContain(row.reference);
	});

	it('R19/R21: needs-info with a reason → the person answers with a document → approve rebinds, revokes, notifies', async () => {
		const agent = await makeAgent(app);
		const { account, row, reference, statusToken, newIdentifier } = await newAppeal();
		const session = (await createSession(
			app,
			generateSessionToken(),
			account!.id,
			{ ip: null, ipCountry: null, userAgent: null },
			0
		))!;
		// R21: two owner changes in the window already: an appeal change is not blocked by R16.
		for (const days of [20, 10]) {
			await database.db
				.insertInto('contact_changes')
				.values({
					id: crypto.randomUUID(),
					account_id: account!.id,
					kind: 'owner',
					old_identifier: 'x@example.com',
					new_identifier: account!.email!,
					changed_at: app.clock.now().getTime() - days * 86_400_000
				})
				.execute();
		}
		await claimAppeal(app, agent, row.id, { takeOver: false }, meta);
		expect(
			await decideAppeal(
				app,
				agent,
				row.id,
				{ kind: 'needs_info', reason: 'Please add a photo of the back of your ID card.' },
				meta
			)
		).toEqual({ ok: true, outcome: 'needs_info' });
		const waiting = await appealStatus(app, reference, statusToken);
		expect(waiting).toMatchObject({
			status: 'needs_info',
			messages: [{ from: 'support', body: 'Please add a photo of the back of your ID card.' }]
		});
		expect(await decideAppeal(app, agent, row.id, { kind: 'approve' }, meta)).toMatchObject({
			ok: false,
			code: 'appeal_wrong_status'
		});

		app.clock.advance(HOUR);
		const answer = await answerAppeal(
			app,
			{ reference, statusToken },
			{ message: 'Here is the back.' },
			[{ name: 'back.jpg', declaredType: 'image/jpeg', bytes: jpegBytes({ metadata: true }) }],
			{ ...meta, ipCountry: null, deviceId: 'd', locale: 'en', userAgent: null }
		);
		expect(answer).toEqual({ ok: true });
		expect((await appealStatus(app, reference, statusToken))?.status).toBe('in_review');
		expect((await appealForAgent(app, agent, row.id))?.documents.map((d) => d.source)).toEqual([
			'submission',
			'submission',
			'reply'
		]);

		expect(await decideAppeal(app, agent, row.id, { kind: 'approve' }, meta)).toEqual({
			ok: true,
			outcome: 'approved'
		});
		const rebound = await database.db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', account!.id)
			.executeTakeFirstOrThrow();
		expect(rebound.email).toBe(newIdentifier);
		const changes = await database.db
			.selectFrom('contact_changes')
			.selectAll()
			.where('account_id', '=', account!.id)
			.orderBy('changed_at')
			.execute();
		expect(changes.at(-1)).toMatchObject({
			kind: 'appeal',
			old_identifier: account!.email,
			new_identifier: newIdentifier
		});
		expect(
			contactChangeQuota(
				changes.map((c) => c.changed_at),
				app.clock.now()
			).used
		).toBe(3);
		expect(
			await database.db
				.selectFrom('sessions')
				.select('id')
				.where('id', '=', session.id)
				.executeTakeFirst()
		).toBeUndefined();
		const notices = await database.db
			.selectFrom('outbox')
			.select(['recipient', 'purpose'])
			.where('purpose', 'like', 'appeal_approved%')
			.execute();
		expect(notices).toEqual(
			expect.arrayContaining([
				{ recipient: newIdentifier, purpose: 'appeal_approved_new' },
				{ recipient: account!.email, purpose: 'appeal_approved_old' }
			])
		);
		expect(await auditActions(row.id)).toEqual([
			'appeal.submitted',
			'appeal.claimed',
			'appeal.needs_info',
			'appeal.answered',
			'appeal.approved'
		]);
		expect(
			await decideAppeal(app, agent, row.id, { kind: 'reject', reason: 'too late now' }, meta)
		).toMatchObject({ ok: false, code: 'appeal_decided' });
	});

	it('R18/R21: a password-reset code sent to the old contact before an approved appeal resets nothing after it', async () => {
		const agent = await makeAgent(app);
		const { account, row, newIdentifier } = await newAppeal();
		const oldEmail = account!.email!;
		// §8a: filing told this mailbox too; the reset code comes after, so it is the newest message.
		app.clock.advance(1_000);
		// Whoever still reads the lost mailbox asks for a reset just before the appeal is approved.
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: oldEmail },
					clientAddress: nextAddress()
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, oldEmail);
		await claimAppeal(app, agent, row.id, { takeOver: false }, meta);
		expect(await decideAppeal(app, agent, row.id, { kind: 'approve' }, meta)).toEqual({
			ok: true,
			outcome: 'approved'
		});

		// R13: the old contact's check no longer shows a live code; none is left for the account.
		const report = await (
			await callEndpoint(check, app, {
				json: { identifier: oldEmail },
				clientAddress: nextAddress()
			})
		).json();
		expect(report.verification).toEqual({ pending: false });
		const pending = await database.db
			.selectFrom('verification_codes')
			.select('purpose')
			.where('account_id', '=', account!.id)
			.where('consumed_at', 'is', null)
			.execute();
		expect(pending).toEqual([]);
		const reset = await callEndpoint(confirmReset, app, {
			json: { identifier: oldEmail, code, newPassword: 'somebody else now owns this' },
			clientAddress: nextAddress()
		});
		expect([reset.status, (await reset.json()).error.code]).toEqual([400, 'code_invalid']);
		const after = await database.db
			.selectFrom('accounts')
			.select(['email', 'password_hash'])
			.where('id', '=', account!.id)
			.executeTakeFirstOrThrow();
		expect(after).toEqual({ email: newIdentifier, password_hash: account!.password_hash });
	});

	it('R21: a rejection carries its reason to the status page', async () => {
		const agent = await makeAgent(app);
		const { row, reference, statusToken } = await newAppeal();
		await claimAppeal(app, agent, row.id, { takeOver: false }, meta);
		expect(
			await decideAppeal(
				app,
				agent,
				row.id,
				{ kind: 'reject', reason: 'The document belongs to someone else.' },
				meta
			)
		).toEqual({ ok: true, outcome: 'rejected' });
		expect(await appealStatus(app, reference, statusToken)).toMatchObject({
			status: 'rejected',
			messages: [{ from: 'support', body: 'The document belongs to someone else.' }]
		});
	});

	it('R21: with APPEAL_REQUIRE_SECOND_APPROVAL=1 a rebind waits for a second agent', async () => {
		const strict = testAppContext(database, {
			env: {
				APPEAL_STORAGE_DIR: dir,
				APPEAL_REQUIRE_SECOND_APPROVAL: '1',
				APPEAL_RECOVERY_HOLD_HOURS: '0'
			}
		});
		const [a, b] = [await makeAgent(strict), await makeAgent(strict)];
		const { account, row, newIdentifier } = await newAppeal();
		await claimAppeal(strict, a, row.id, { takeOver: false }, meta);
		expect(await decideAppeal(strict, a, row.id, { kind: 'approve' }, meta)).toEqual({
			ok: true,
			outcome: 'awaiting_second_approval'
		});
		expect(await decideAppeal(strict, a, row.id, { kind: 'approve' }, meta)).toMatchObject({
			ok: false,
			code: 'second_approver_required'
		});
		expect(
			(
				await database.db
					.selectFrom('accounts')
					.select('email')
					.where('id', '=', account!.id)
					.executeTakeFirstOrThrow()
			).email
		).toBe(account!.email);
		await claimAppeal(strict, b, row.id, { takeOver: true }, meta);
		expect(await decideAppeal(strict, b, row.id, { kind: 'approve' }, meta)).toEqual({
			ok: true,
			outcome: 'approved'
		});
		expect(
			(
				await database.db
					.selectFrom('accounts')
					.select('email')
					.where('id', '=', account!.id)
					.executeTakeFirstOrThrow()
			).email
		).toBe(newIdentifier);
	});

	it('§8: Approve without confirm=yes answers 400 confirm_required and changes nothing; with it the appeal is approved', async () => {
		const agent = await makeAgent(app);
		const { account, row, newIdentifier } = await newAppeal();
		expect(await act(app, 'claim', agent, row.id)).toEqual({ claimed: true });
		for (const fields of [{}, { confirm: 'no' }] as Record<string, string>[]) {
			const refused = await act(app, 'approve', agent, row.id, fields);
			expect(refused).toMatchObject({
				status: 400,
				data: {
					error: {
						code: 'confirm_required',
						field: 'confirm',
						message: 'Tick “I confirm” to approve: read what the approval does first.'
					}
				}
			});
		}
		const unchanged = await database.db
			.selectFrom('appeals')
			.select(['status', 'decided_at', 'first_approval_by'])
			.where('id', '=', row.id)
			.executeTakeFirstOrThrow();
		expect(unchanged).toEqual({ status: 'in_review', decided_at: null, first_approval_by: null });
		expect(await emailOf(account!.id)).toBe(account!.email);
		expect(await auditActions(row.id)).toEqual(['appeal.submitted', 'appeal.claimed']);

		expect(await act(app, 'approve', agent, row.id, { confirm: 'yes' })).toEqual({
			outcome: 'approved'
		});
		expect(
			(
				await database.db
					.selectFrom('appeals')
					.select('status')
					.where('id', '=', row.id)
					.executeTakeFirstOrThrow()
			).status
		).toBe('approved');
		expect(await auditActions(row.id)).toContain('appeal.approved');
		// The recovery hold decides when the contact changes; the approval itself is what is shown here.
		expect([account!.email, newIdentifier]).toContain(await emailOf(account!.id));
	});

	it('§8: the confirm_required answer is translated (zh-CN), and a rejection keeps its own confirmation', async () => {
		const agent = await makeAgent(app);
		const { row } = await newAppeal();
		await act(app, 'claim', agent, row.id);
		const body = new FormData();
		const action = appealActions.approve!;
		const refused = (await callEndpoint(
			(event: Parameters<typeof action>[0]) => {
				event.locals.agent = agent;
				return action({ ...event, params: { id: row.id } });
			},
			app,
			{
				path: `/support/appeals/${row.id}?/approve`,
				body,
				clientAddress: nextAddress(),
				headers: { 'accept-language': 'zh-CN,zh;q=0.9' }
			}
		)) as { status: number; data: { error: { code: string; message: string } } };
		expect(refused.status).toBe(400);
		expect(refused.data.error).toMatchObject({
			code: 'confirm_required',
			message: '请先勾选“我确认”再批准：请先阅读批准后会发生什么。'
		});
		expect(
			await act(app, 'reject', agent, row.id, { reason: 'The documents do not match.' })
		).toMatchObject({
			status: 400,
			data: { decision: 'reject', error: { code: 'confirm_required' } }
		});
	});

	it('§8: with APPEAL_REQUIRE_SECOND_APPROVAL=1 the first and the second approval each need confirm=yes', async () => {
		const strict = testAppContext(database, {
			env: { APPEAL_STORAGE_DIR: dir, APPEAL_REQUIRE_SECOND_APPROVAL: '1' }
		});
		strict.clock.set(app.clock.now());
		const [a, b] = [await makeAgent(strict), await makeAgent(strict)];
		const { row } = await newAppeal();
		await act(strict, 'claim', a, row.id);
		expect(await act(strict, 'approve', a, row.id)).toMatchObject({
			status: 400,
			data: { error: { code: 'confirm_required' } }
		});
		const first = async () =>
			await database.db
				.selectFrom('appeals')
				.select(['status', 'first_approval_by'])
				.where('id', '=', row.id)
				.executeTakeFirstOrThrow();
		expect(await first()).toEqual({ status: 'in_review', first_approval_by: null });
		expect(await act(strict, 'approve', a, row.id, { confirm: 'yes' })).toEqual({
			outcome: 'awaiting_second_approval'
		});
		await claimAppeal(strict, b, row.id, { takeOver: true }, meta);
		expect(await act(strict, 'approve', b, row.id)).toMatchObject({
			status: 400,
			data: { error: { code: 'confirm_required' } }
		});
		expect(await first()).toEqual({ status: 'in_review', first_approval_by: a.id });
		expect(await act(strict, 'approve', b, row.id, { confirm: 'yes' })).toEqual({
			outcome: 'approved'
		});
		expect((await first()).status).toBe('approved');
	});

	it('§8: the queue and the appeal page show an approval in its hold (rebinds at, rebound at) and who cancelled when', async () => {
		const agent = await makeAgent(app);
		const [held, rebound, byLink, byOwner, open] = [
			await newAppeal(),
			await newAppeal(),
			await newAppeal(),
			await newAppeal(),
			await newAppeal()
		];
		const now = app.clock.now().getTime();
		// The recovery flow writes these columns; set here directly (schema 0011).
		await database.db
			.updateTable('appeals')
			.set({ status: 'approved', decided_at: now, rebind_due_at: now + 72 * HOUR })
			.where('id', '=', held.row.id)
			.execute();
		await database.db
			.updateTable('appeals')
			.set({
				status: 'approved',
				decided_at: now - 80 * HOUR,
				rebind_due_at: now - 8 * HOUR,
				rebound_at: now - 8 * HOUR + 1000
			})
			.where('id', '=', rebound.row.id)
			.execute();
		for (const [appeal, by, ago] of [
			[byLink, 'link', 2 * HOUR],
			[byOwner, 'owner', 3 * HOUR]
		] as const)
			await database.db
				.updateTable('appeals')
				.set({ status: 'cancelled', cancelled_at: now - ago, cancelled_by: by })
				.where('id', '=', appeal.row.id)
				.execute();
		const ours = [held, rebound, byLink, byOwner, open].map((x) => x.reference);
		const pick = async (filter: Parameters<typeof listQueue>[2]) =>
			(await listQueue(app, agent, filter)).filter((i) => ours.includes(i.reference));

		expect((await pick('held')).map((i) => [i.reference, i.rebindDueAt, i.reboundAt])).toEqual([
			[held.reference, new Date(now + 72 * HOUR).toISOString(), null]
		]);
		const cancelled = await pick('cancelled');
		expect(
			cancelled.map((i) => [i.reference, i.status, i.urgency, i.cancelledBy, i.cancelledAt]).sort()
		).toEqual(
			[
				[byLink.reference, 'cancelled', 'closed', 'link', new Date(now - 2 * HOUR).toISOString()],
				[byOwner.reference, 'cancelled', 'closed', 'owner', new Date(now - 3 * HOUR).toISOString()]
			].sort()
		);
		const approved = await pick('approved');
		expect(approved.find((i) => i.reference === rebound.reference)).toMatchObject({
			reboundAt: new Date(now - 8 * HOUR + 1000).toISOString()
		});
		expect((await pick('open')).map((i) => i.reference)).toEqual([open.reference]);

		// Through the pages' loads, as an agent's browser gets them.
		const queue = (await callEndpoint(
			(event: Parameters<typeof queuePage>[0]) => {
				event.locals.agent = agent;
				return queuePage(event);
			},
			app,
			{ method: 'GET', path: '/support?status=cancelled' }
		)) as unknown as { filter: string; filters: string[]; items: { reference: string }[] };
		expect(queue.filter).toBe('cancelled');
		expect(queue.filters).toEqual(expect.arrayContaining(['held', 'cancelled']));
		expect(queue.items.map((i) => i.reference)).toEqual(
			expect.arrayContaining([byLink.reference, byOwner.reference])
		);
		const page = (await callEndpoint(
			(event: Parameters<typeof appealPage>[0]) => {
				event.locals.agent = agent;
				return appealPage({ ...event, params: { id: held.row.id } });
			},
			app,
			{ method: 'GET', path: `/support/appeals/${held.row.id}` }
		)) as unknown as { appeal: { rebindDueAt: string | null; cancelledBy: string | null } };
		expect(page.appeal).toMatchObject({
			rebindDueAt: new Date(now + 72 * HOUR).toISOString(),
			cancelledBy: null
		});
	});

	it('R21: an appeal for an unknown identifier cannot be approved; R3: nor onto a taken contact', async () => {
		const agent = await makeAgent(app);
		const orphan = await newAppeal(uniqueEmail('nobody'));
		await claimAppeal(app, agent, orphan.row.id, { takeOver: false }, meta);
		expect(await decideAppeal(app, agent, orphan.row.id, { kind: 'approve' }, meta)).toMatchObject({
			ok: false,
			code: 'appeal_no_account'
		});
		const { row, newIdentifier } = await newAppeal();
		await insertAccount(database.db, { email: newIdentifier });
		await claimAppeal(app, agent, row.id, { takeOver: false }, meta);
		expect(await decideAppeal(app, agent, row.id, { kind: 'approve' }, meta)).toMatchObject({
			ok: false,
			code: 'identifier_taken'
		});
	});

	describe('R22: documents only for signed-in agents', () => {
		const call = (id: string, agent: Agent | null, jar?: Map<string, string>) =>
			requestDocument(app, id, agent, jar);
		const status = statusOf;

		it('anonymous clients and buyer sessions get 403; an agent downloads it as an attachment, audited', async () => {
			const agent = await makeAgent(app);
			const { account, row } = await newAppeal();
			const doc = (await appealForAgent(app, agent, row.id))!.documents[0]!;
			expect(await status(call(doc.id, null))).toBe(403);
			const token = generateSessionToken();
			await createSession(
				app,
				token,
				account!.id,
				{ ip: null, ipCountry: null, userAgent: null },
				0
			);
			expect(await status(call(doc.id, null, new Map([['session', token]])))).toBe(403);
			const ok = await call(doc.id, agent);
			expect(ok.status).toBe(200);
			expect(ok.headers.get('content-disposition')).toMatch(/^attachment; filename="AP-/);
			expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
			expect(ok.headers.get('content-type')).toBe(doc.contentType);
			expect(await auditActions(row.id)).toContain('appeal.document_viewed');
			expect(await status(call(crypto.randomUUID(), agent))).toBe(404);
		});

		it("R22: each agent's viewing of a document is audited once an hour, not once per page load", async () => {
			const [agent, other] = [await makeAgent(app), await makeAgent(app)];
			const { row } = await newAppeal();
			const doc = (await appealForAgent(app, agent, row.id))!.documents[0]!;
			const views = async () =>
				(await auditActions(row.id)).filter((a) => a === 'appeal.document_viewed').length;
			for (let i = 0; i < 3; i++) expect((await call(doc.id, agent)).status).toBe(200);
			expect(await views()).toBe(1);
			expect((await call(doc.id, other)).status).toBe(200);
			expect(await views()).toBe(2);
			app.clock.advance(HOUR - 1000);
			expect((await call(doc.id, agent)).status).toBe(200);
			expect(await views()).toBe(2);
			app.clock.advance(2000);
			expect((await call(doc.id, agent)).status).toBe(200);
			expect(await views()).toBe(3);
			// The same agent from another address within the hour is another row (a reviewer's find:
			// a stolen agent session would otherwise leave no trace of where it was used).
			expect((await requestDocument(app, doc.id, agent, undefined, '198.51.100.66')).status).toBe(
				200
			);
			expect(await views()).toBe(4);
		});

		it('R19: documents are deleted 30 days after the decision, and the deletion is audited', async () => {
			const agent = await makeAgent(app);
			const { row } = await newAppeal();
			await claimAppeal(app, agent, row.id, { takeOver: false }, meta);
			await decideAppeal(
				app,
				agent,
				row.id,
				{ kind: 'reject', reason: 'Not the account holder.' },
				meta
			);
			const docs = (await appealForAgent(app, agent, row.id))!.documents;
			app.clock.advance(29 * 86_400_000);
			await purgeExpiredDocuments(app);
			expect((await appealForAgent(app, agent, row.id))!.documents.every((d) => !d.deleted)).toBe(
				true
			);
			const contents = () =>
				database.db
					.selectFrom('appeal_document_contents')
					.select('document_id')
					.where(
						'document_id',
						'in',
						docs.map((d) => d.id)
					)
					.execute();
			expect(await contents()).toHaveLength(docs.length);
			app.clock.advance(86_400_000);
			expect(await purgeExpiredDocuments(app)).toBeGreaterThanOrEqual(docs.length);
			expect((await appealForAgent(app, agent, row.id))!.documents.every((d) => d.deleted)).toBe(
				true
			);
			expect(await contents()).toEqual([]);
			expect(await status(call(docs[0]!.id, agent))).toBe(404);
			expect(
				(await auditActions(row.id)).filter((a) => a === 'appeal.document_deleted')
			).toHaveLength(docs.length);
		});
	});
});
