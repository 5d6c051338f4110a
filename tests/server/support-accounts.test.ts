import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHttpError, isRedirect, type RequestEvent } from '@sveltejs/kit';
import {
	actions as lookupActions,
	load as lookupLoad
} from '../../src/routes/support/accounts/+page.server';
import {
	actions as accountActions,
	load as accountLoad
} from '../../src/routes/support/accounts/[id]/+page.server';
import { accountForAgent } from '../../src/lib/server/support/account-view';
import type { Agent } from '../../src/lib/server/support/agents';
import { runCheck } from '../../src/lib/server/check/run';
import type { Viewer } from '../../src/lib/server/check/report';
import { CHECK_BURST_MIN } from '../../src/lib/server/check/history';
import type { Account, NewAccount } from '../../src/lib/server/db/schema';
import { decideReview } from '../../src/lib/server/support/risk-review';
import {
	createSession,
	generateSessionToken,
	validateSessionToken
} from '../../src/lib/server/accounts/sessions';
import { makeAgent } from '../support/agents';
import { fileAppeal, tempStorageDir } from '../support/appeals';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { insertAccount, uniqueCnMobile, uniqueEmail } from '../support/factories';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AGENT_IP = '203.0.113.50';

describe.each(testDatabases)('support account view on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { APPEAL_STORAGE_DIR: tempStorageDir() } });
	});
	afterAll(() => database.dispose());

	/** A page or action event as SvelteKit builds it after hooks.server.ts ran. */
	function supportEvent(
		who: { agent?: Agent | null; buyer?: Account | null },
		init: { path: string; id?: string; form?: Record<string, string> }
	) {
		const url = new URL(init.path, 'http://127.0.0.1');
		const body = new FormData();
		for (const [k, v] of Object.entries(init.form ?? {})) body.append(k, v);
		const request = new Request(url, init.form ? { method: 'POST', body } : { method: 'GET' });
		return {
			url,
			request,
			params: init.id ? { id: init.id } : {},
			locals: {
				app,
				clientAddress: AGENT_IP,
				ipCountry: null,
				deviceId: 'd',
				session: null,
				account: who.buyer ?? null,
				agent: who.agent ?? null,
				agentSession: null
			},
			setHeaders: () => {},
			cookies: { get: () => undefined }
		} as unknown as RequestEvent<{ id: string }> & Parameters<typeof accountLoad>[0];
	}
	/** What a page or action threw (redirect, HTTP error) or answered. */
	async function outcome(
		run: () => unknown
	): Promise<{ redirect?: string; status?: number; body?: unknown }> {
		try {
			const value = (await run()) as { status?: number; data?: unknown } | undefined;
			return value && typeof value === 'object' && 'status' in value
				? { status: value.status, body: value.data }
				: { body: value };
		} catch (thrown) {
			if (isRedirect(thrown)) return { redirect: thrown.location, status: thrown.status };
			if (isHttpError(thrown)) return { status: thrown.status, body: thrown.body };
			throw thrown;
		}
	}
	const reviewAccount = (overrides: Partial<NewAccount> = {}) =>
		insertAccount(database.db, {
			status: 'under_review',
			country: 'CN',
			reg_ip_country: 'US',
			created_at: app.clock.now().getTime() - DAY,
			...overrides
		});
	const statusOf = async (id: string) =>
		(
			await database.db
				.selectFrom('accounts')
				.select('status')
				.where('id', '=', id)
				.executeTakeFirstOrThrow()
		).status;
	const auditRows = (subjectId: string, action: string) =>
		database.db
			.selectFrom('audit_events')
			.selectAll()
			.where('subject_id', '=', subjectId)
			.where('action', '=', action)
			.orderBy('id')
			.execute();
	const clear = (agent: Agent | null, id: string, reason: string) =>
		outcome(() =>
			accountActions.clearReview!(
				supportEvent(
					{ agent },
					{ path: `/support/accounts/${id}?/clearReview`, id, form: { reason } }
				) as never
			)
		);
	const confirm = (agent: Agent | null, id: string, reason: string) =>
		outcome(() =>
			accountActions.confirmReview!(
				supportEvent(
					{ agent },
					{ path: `/support/accounts/${id}?/confirmReview`, id, form: { reason } }
				) as never
			)
		);

	it('R22: anonymous clients and buyers are sent to the support sign-in, and their actions get 403', async () => {
		const account = await reviewAccount();
		const buyer = (await database.db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', account.id)
			.executeTakeFirstOrThrow()) as Account;
		for (const who of [{}, { buyer }]) {
			expect(
				await outcome(() =>
					accountLoad(
						supportEvent(who, { path: `/support/accounts/${account.id}`, id: account.id })
					)
				)
			).toEqual({ redirect: '/support/login', status: 303 });
			expect(
				await outcome(() => lookupLoad(supportEvent(who, { path: '/support/accounts' }) as never))
			).toEqual({ redirect: '/support/login', status: 303 });
			expect(
				await outcome(() =>
					lookupActions.default!(
						supportEvent(who, {
							path: '/support/accounts',
							form: { identifier: account.email! }
						}) as never
					)
				)
			).toMatchObject({ status: 403, body: { code: 'forbidden' } });
			const attempt = await outcome(() =>
				accountActions.clearReview!(
					supportEvent(who, {
						path: `/support/accounts/${account.id}?/clearReview`,
						id: account.id,
						form: { reason: 'Looks fine to me.' }
					}) as never
				)
			);
			expect(attempt).toMatchObject({ status: 403, body: { code: 'forbidden' } });
		}
		expect(await statusOf(account.id)).toBe('under_review');
		expect(await auditRows(account.id, 'support.account_viewed')).toHaveLength(0);
	});

	it('R4/R22: the lookup takes the identifier in a POST body and redirects to the account id, never to the identifier', async () => {
		const agent = await makeAgent(app);
		const phone = uniqueCnMobile();
		const account = await insertAccount(database.db, { phone });
		const lookup = (identifier: string) =>
			outcome(() =>
				lookupActions.default!(
					supportEvent({ agent }, { path: '/support/accounts', form: { identifier } }) as never
				)
			);
		// R1: case-insensitive; R2: spaces and dashes accepted.
		expect(await lookup(account.email!.toUpperCase())).toEqual({
			redirect: `/support/accounts/${account.id}`,
			status: 303
		});
		expect(await lookup(`${phone.slice(0, 6)} ${phone.slice(6, 10)}-${phone.slice(10)}`)).toEqual({
			redirect: `/support/accounts/${account.id}`,
			status: 303
		});
		expect(await lookup(uniqueEmail('nobody'))).toMatchObject({
			status: 404,
			body: { error: { code: 'account_not_found', field: 'identifier' } }
		});
		expect(await lookup('not-an-email@')).toMatchObject({
			status: 400,
			body: { error: { code: 'invalid_identifier' } }
		});
		expect(await lookup('')).toMatchObject({
			status: 400,
			body: { error: { code: 'invalid_identifier' } }
		});
	});

	it('R9/R10/R11/R22: an agent sees identifiers whole and every flag with its evidence; the view is audited', async () => {
		const agent = await makeAgent(app);
		const device = randomUUID();
		await database.db
			.insertInto('devices')
			.values({
				id: device,
				created_at: app.clock.now().getTime(),
				last_seen_at: app.clock.now().getTime()
			})
			.execute();
		const first = await insertAccount(database.db, {
			reg_device_id: device,
			created_at: app.clock.now().getTime() - 10 * DAY
		});
		const phone = uniqueCnMobile();
		const account = await reviewAccount({
			phone,
			reg_device_id: device,
			multiple_accounts_on_device: 1,
			created_at: app.clock.now().getTime() - 4 * DAY
		});
		const page = await outcome(() =>
			accountLoad(
				supportEvent({ agent }, { path: `/support/accounts/${account.id}`, id: account.id })
			)
		);
		const view = (page.body as { account: Awaited<ReturnType<typeof accountForAgent>> }).account!;
		// R4: the agent view is unmasked.
		expect(view).toMatchObject({
			email: account.email,
			phone,
			status: 'under_review',
			country: 'CN',
			firstOrderAt: null
		});
		expect(view.flags).toMatchObject({
			ipCountryMismatch: true,
			regIpCountry: 'US',
			multipleAccountsOnDevice: true,
			deviceAccounts: [{ id: first.id, email: first.email }],
			lowActivity: true
		});
		const viewed = await auditRows(account.id, 'support.account_viewed');
		expect(viewed).toMatchObject([
			{ actor_kind: 'agent', actor_id: agent.id, subject_kind: 'account', ip: AGENT_IP }
		]);

		// R9: an unknown IP country is no mismatch; R11: a first order within 72 h is no low activity.
		const quiet = await insertAccount(database.db, {
			reg_ip_country: null,
			first_order_at: app.clock.now().getTime() - HOUR,
			created_at: app.clock.now().getTime() - 5 * DAY
		});
		expect((await accountForAgent(app, agent, quiet.id, { ip: AGENT_IP }))!.flags).toMatchObject({
			ipCountryMismatch: false,
			multipleAccountsOnDevice: false,
			deviceAccounts: [],
			lowActivity: false
		});
		expect(
			await outcome(() =>
				accountLoad(supportEvent({ agent }, { path: '/support/accounts/x', id: randomUUID() }))
			)
		).toMatchObject({ status: 404, body: { code: 'account_not_found' } });
		expect(
			await outcome(() =>
				accountLoad(supportEvent({ agent }, { path: '/support/accounts/x', id: "1' or 1=1" }))
			)
		).toMatchObject({ status: 404 });
	});

	it('R16/R21/R22: the view lists owner and appeal contact changes with the quota, and the account’s appeals', async () => {
		const agent = await makeAgent(app);
		const account = await insertAccount(database.db);
		const now = app.clock.now().getTime();
		for (const [kind, days] of [
			['owner', 30],
			['appeal', 3]
		] as const) {
			await database.db
				.insertInto('contact_changes')
				.values({
					id: randomUUID(),
					account_id: account.id,
					kind,
					old_identifier: uniqueEmail('old'),
					new_identifier: account.email!,
					changed_at: now - days * DAY
				})
				.execute();
		}
		await fileAppeal(app, { identifier: account.email! });
		const view = (await accountForAgent(app, agent, account.id, { ip: AGENT_IP }))!;
		expect(view.contactChanges.map((c) => c.kind)).toEqual(['appeal', 'owner']);
		// R16: two changes in 180 days use the quota up; the next is allowed when the older leaves the window.
		expect(view.quota).toMatchObject({
			used: 2,
			limit: 2,
			remaining: 0,
			nextAllowedAt: new Date(now - 30 * DAY + 180 * DAY).toISOString()
		});
		expect(view.appeals).toEqual([
			expect.objectContaining({ status: 'submitted', reference: expect.stringMatching(/^AP-/) })
		]);
		expect(view.events.map((e) => e.action)).not.toContain('support.account_viewed');
	});

	it('R15: checks against the account are listed, and an address with a burst of checks is visible to agents', async () => {
		const agent = await makeAgent(app);
		const account = await insertAccount(database.db);
		const viewer = (ip: string): Viewer => ({
			requestCountry: null,
			deviceId: 'd',
			address: ip,
			proven: () => false
		});
		// An enumeration run: one address checks this account twice among many other identifiers.
		const burst = '198.51.100.77';
		const identifiers = [
			account.email!,
			...Array.from({ length: CHECK_BURST_MIN }, () => uniqueEmail('probe')),
			account.email!
		];
		for (const identifier of identifiers)
			expect(await runCheck(app, { identifier }, viewer(burst))).toMatchObject({ ok: true });
		// A single check from another address is no burst.
		await runCheck(app, { identifier: account.email! }, viewer('198.51.100.78'));
		let checks = (await accountForAgent(app, agent, account.id, { ip: AGENT_IP }))!.checks;
		expect(checks.countLast7Days).toBe(3);
		expect(checks.recent).toHaveLength(3);
		expect(checks.recent[0]).toMatchObject({
			outcome: 'registered',
			at: app.clock.now().toISOString()
		});
		// R4: only a prefix of the keyed hash, never the address.
		expect(checks.bursts).toEqual([
			{
				ipKey: app.keys.hmac('ip', burst).slice(0, 12),
				total: CHECK_BURST_MIN + 2,
				againstAccount: 2
			}
		]);
		app.clock.advance(HOUR + 1000);
		checks = (await accountForAgent(app, agent, account.id, { ip: AGENT_IP }))!.checks;
		expect(checks.bursts).toEqual([]);
		expect(checks.countLast7Days).toBe(3);
	});

	it('R9: clearing a review activates the account once; a second decision gets review_not_pending', async () => {
		const [a, b] = [await makeAgent(app), await makeAgent(app)];
		const account = await reviewAccount();
		expect(await clear(a, account.id, 'x')).toMatchObject({
			status: 400,
			body: { error: { code: 'invalid_reason', field: 'reason' } }
		});
		expect(await statusOf(account.id)).toBe('under_review');
		expect(await clear(a, account.id, 'Customer travels; VPN exit node in the US.')).toEqual({
			body: { reviewed: 'active' }
		});
		expect(await statusOf(account.id)).toBe('active');
		const row = await database.db
			.selectFrom('accounts')
			.select(['review_decided_at', 'review_decided_by'])
			.where('id', '=', account.id)
			.executeTakeFirstOrThrow();
		expect(row).toEqual({ review_decided_at: app.clock.now().getTime(), review_decided_by: a.id });
		expect(await confirm(b, account.id, 'Second opinion: fake traffic.')).toMatchObject({
			status: 409,
			body: { error: { code: 'review_not_pending' } }
		});
		expect(await statusOf(account.id)).toBe('active');
		const audited = await auditRows(account.id, 'support.review_cleared');
		expect(audited).toMatchObject([{ actor_id: a.id, ip: AGENT_IP }]);
		expect(JSON.parse(audited[0]!.details!)).toEqual({
			reason: 'Customer travels; VPN exit node in the US.',
			from: 'under_review',
			to: 'active'
		});
		expect(await auditRows(account.id, 'support.review_confirmed')).toHaveLength(0);
		expect(
			await decideReview(
				app,
				a,
				randomUUID(),
				{ decision: 'clear', reason: 'no such account' },
				{ ip: AGENT_IP }
			)
		).toMatchObject({ ok: false, code: 'account_not_found' });
	});

	it('R9: confirming a review disables the account and revokes every session', async () => {
		const agent = await makeAgent(app);
		const account = await reviewAccount();
		const deps = app;
		const tokens = [generateSessionToken(), generateSessionToken()];
		for (const token of tokens)
			await createSession(
				deps,
				token,
				account.id,
				{ ip: null, ipCountry: null, userAgent: null },
				0
			);
		expect(await confirm(agent, account.id, 'Same device as 40 fake accounts.')).toEqual({
			body: { reviewed: 'disabled' }
		});
		expect(await statusOf(account.id)).toBe('disabled');
		expect(
			await database.db
				.selectFrom('sessions')
				.select('id')
				.where('account_id', '=', account.id)
				.execute()
		).toEqual([]);
		for (const token of tokens)
			expect((await validateSessionToken(deps, token)).session).toBeNull();
		expect(await auditRows(account.id, 'support.review_confirmed')).toMatchObject([
			{ actor_id: agent.id }
		]);
		expect(await clear(agent, account.id, 'Changed my mind.')).toMatchObject({
			status: 409,
			body: { error: { code: 'review_not_pending' } }
		});
	});

	it('R9: two agents deciding the same review at once — exactly one decision lands', async () => {
		const [a, b] = [await makeAgent(app), await makeAgent(app)];
		const account = await reviewAccount();
		const results = await Promise.all([
			decideReview(
				app,
				a,
				account.id,
				{ decision: 'clear', reason: 'Looks like a real buyer.' },
				{ ip: AGENT_IP }
			),
			decideReview(
				app,
				b,
				account.id,
				{ decision: 'confirm', reason: 'Looks like fake traffic.' },
				{ ip: AGENT_IP }
			)
		]);
		expect(results.filter((r) => r.ok)).toHaveLength(1);
		expect(results.filter((r) => !r.ok)).toMatchObject([
			{ status: 409, code: 'review_not_pending' }
		]);
		const decided =
			(await auditRows(account.id, 'support.review_cleared')).length +
			(await auditRows(account.id, 'support.review_confirmed')).length;
		expect(decided).toBe(1);
	});
});
