import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHttpError, isRedirect, type RequestEvent } from '@sveltejs/kit';
import { freezeAccount, liftFreeze } from '../../src/lib/server/accounts/freeze';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as freezeApi } from '../../src/routes/api/v1/account/freeze/+server';
import { POST as proofFreezeApi } from '../../src/routes/api/v1/verifications/freeze/+server';
import { POST as sendCheckCode } from '../../src/routes/api/v1/verifications/+server';
import { POST as confirmCheckCode } from '../../src/routes/api/v1/verifications/confirm/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { actions as freezePage } from '../../src/routes/account/security/freeze/+page.server';
import { actions as checkPage } from '../../src/routes/+page.server';
import { actions as supportAccount } from '../../src/routes/support/accounts/[id]/+page.server';
import type { Agent } from '../../src/lib/server/support/agents';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { latestCode, latestMessage, messageText } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueCnMobile } from '../support/factories';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';
import { makeAgent } from '../support/agents';

const NEW_PASSWORD = 'another calm and long sentence';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe.each(testDatabases)('rules §7b the owner freeze on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let sequence = 0;
	/** A fresh client network per call, so the per-network caps never interfere between tests. */
	const ip = () => `100.65.${Math.floor(++sequence / 250)}.${sequence % 250}`;
	beforeAll(async () => ({ database, app } = await openTestApp(open)));
	afterAll(() => database.dispose());

	/** An account bound to an email and a phone. */
	async function owner() {
		const phone = uniqueCnMobile();
		return { ...(await insertMember(app, 'freeze', { account: { phone } })), phone };
	}
	const signedIn = (email: string) => signedInBrowser(app, email, { clientAddress: ip() });
	const me = async (jar: CookieJar) =>
		(await callEndpoint(account, app, { method: 'GET', jar })).status;
	const frozenAt = async (id: string) =>
		(
			await database.db
				.selectFrom('accounts')
				.select('frozen_at')
				.where('id', '=', id)
				.executeTakeFirstOrThrow()
		).frozen_at;
	const messages = (recipient: string, purpose: string) =>
		database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', recipient)
			.where('purpose', '=', purpose)
			.execute();
	const audits = (id: string, action: string) =>
		database.db
			.selectFrom('audit_events')
			.selectAll()
			.where('subject_id', '=', id)
			.where('action', '=', action)
			.execute();
	const pendingSignIn = (accountId: string) =>
		database.db
			.insertInto('pending_sign_ins')
			.values({
				id: `p-${accountId}-${++sequence}`,
				account_id: accountId,
				created_at: app.clock.now().getTime(),
				expires_at: app.clock.now().getTime() + 5 * 60_000
			})
			.execute();
	const pendingSignIns = async (accountId: string) =>
		(
			await database.db
				.selectFrom('pending_sign_ins')
				.select('id')
				.where('account_id', '=', accountId)
				.execute()
		).length;
	const resetByCode = async (identifier: string) => {
		expect(
			(await callEndpoint(requestReset, app, { json: { identifier }, clientAddress: ip() })).status
		).toBe(202);
		const code = await latestCode(database.db, identifier);
		return callEndpoint(confirmReset, app, {
			json: { identifier, code, newPassword: NEW_PASSWORD },
			clientAddress: ip()
		});
	};
	/** Everything a freeze must have done to the account `person`. */
	async function expectFrozen(person: { id: string; email: string; phone: string }) {
		expect(await frozenAt(person.id)).toBe(app.clock.now().getTime());
		expect(await pendingSignIns(person.id)).toBe(0);
		expect(await messages(person.email, 'account_frozen')).toHaveLength(1);
		expect(await messages(person.phone, 'account_frozen')).toHaveLength(1);
		expect(await audits(person.id, 'account.frozen')).toHaveLength(1);
	}

	it('§7b: POST /api/v1/account/freeze with the password: 200 frozen; every session ends, pending codes and two-step sign-ins die, email and phone told', async () => {
		const person = await owner();
		const jar = await signedIn(person.email);
		const other = await signedIn(person.email);
		await pendingSignIn(person.id);
		// A reset code out to the phone, before the freeze.
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: person.phone },
					clientAddress: ip()
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, person.phone);

		const wrong = await callEndpoint(freezeApi, app, {
			json: { currentPassword: 'not the password at all' },
			jar
		});
		expect([wrong.status, (await wrong.json()).error.code]).toEqual([403, 'invalid_credentials']);
		expect(await frozenAt(person.id)).toBeNull();

		const res = await callEndpoint(freezeApi, app, { json: { currentPassword: PASSWORD }, jar });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: 'frozen' });
		expect(jar.has('session')).toBe(false);
		await expectFrozen(person);
		expect(await me(other)).toBe(401);
		const late = await callEndpoint(confirmReset, app, {
			json: { identifier: person.phone, code, newPassword: NEW_PASSWORD },
			clientAddress: ip()
		});
		expect((await late.json()).error.code).toBe('code_invalid');
		const [notice] = await messages(person.email, 'account_frozen');
		expect(await messageText(database.db, notice!.id)).toContain('/forgot-password');
	});

	it('§7b: POST /api/v1/account/freeze needs a session', async () => {
		const res = await callEndpoint(freezeApi, app, { json: { currentPassword: PASSWORD } });
		expect(res.status).toBe(401);
	});

	it('§7b: freezing a frozen account changes nothing and sends nothing again', async () => {
		const person = await owner();
		expect(await freezeAccount(app, person.id, { kind: 'owner' }, { ip: null })).toEqual({
			ok: true,
			changed: true
		});
		const at = await frozenAt(person.id);
		app.clock.advance(60_000);
		await pendingSignIn(person.id);
		expect(await freezeAccount(app, person.id, { kind: 'contact' }, { ip: null })).toEqual({
			ok: true,
			changed: false
		});
		expect(await frozenAt(person.id)).toBe(at);
		expect(await messages(person.email, 'account_frozen')).toHaveLength(1);
		expect(await messages(person.phone, 'account_frozen')).toHaveLength(1);
		expect(await audits(person.id, 'account.frozen')).toHaveLength(1);
		// And lifting a lifted account is no change either.
		expect(await liftFreeze(app, person.id, { kind: 'reset', via: 'code' }, { ip: null })).toEqual({
			ok: true,
			changed: true
		});
		expect(await liftFreeze(app, person.id, { kind: 'reset', via: 'code' }, { ip: null })).toEqual({
			ok: true,
			changed: false
		});
		expect(await messages(person.email, 'account_unfrozen')).toHaveLength(1);
	});

	it('§7b: the security page freezes only with the confirm box and the password; the session cookie goes', async () => {
		const person = await owner();
		const jar = await signedIn(person.email);
		const unconfirmed = await callEndpoint(freezePage.default!, app, {
			body: new URLSearchParams({ currentPassword: PASSWORD }),
			headers: FORM,
			jar
		});
		expect(unconfirmed).toMatchObject({
			status: 400,
			data: { error: { code: 'confirm_required' } }
		});
		expect(await frozenAt(person.id)).toBeNull();
		await pendingSignIn(person.id);
		const done = await callEndpoint(freezePage.default!, app, {
			body: new URLSearchParams({ currentPassword: PASSWORD, confirm: 'yes' }),
			headers: FORM,
			jar
		});
		expect(done).toEqual({ frozen: true });
		expect(jar.has('session')).toBe(false);
		await expectFrozen(person);
	});

	/** R15a: a right check code in this browser (the grant cookie lands in `jar`). */
	async function prove(identifier: string, jar: CookieJar) {
		expect(
			(
				await callEndpoint(sendCheckCode, app, {
					json: { identifier, purpose: 'check' },
					jar,
					clientAddress: ip()
				})
			).status
		).toBe(202);
		const res = await callEndpoint(confirmCheckCode, app, {
			json: { identifier, purpose: 'check', code: await latestCode(database.db, identifier) },
			jar,
			clientAddress: ip()
		});
		expect(res.status).toBe(200);
	}

	it('§7b: after a check code proves a bound contact, POST /api/v1/verifications/freeze freezes; without the proof it is refused', async () => {
		const person = await owner();
		const session = await signedIn(person.email);
		await pendingSignIn(person.id);
		const stranger = await callEndpoint(proofFreezeApi, app, {
			json: { identifier: person.phone },
			jar: new Map(),
			clientAddress: ip()
		});
		expect([stranger.status, (await stranger.json()).error.code]).toEqual([
			403,
			'verification_required'
		]);
		expect(await frozenAt(person.id)).toBeNull();

		const jar: CookieJar = new Map();
		await prove(person.phone, jar);
		// The proof of the phone does not cover the email.
		const otherContact = await callEndpoint(proofFreezeApi, app, {
			json: { identifier: person.email },
			jar,
			clientAddress: ip()
		});
		expect(otherContact.status).toBe(403);
		const res = await callEndpoint(proofFreezeApi, app, {
			json: { identifier: person.phone },
			jar,
			clientAddress: ip()
		});
		expect([res.status, await res.json()]).toEqual([200, { status: 'frozen' }]);
		await expectFrozen(person);
		expect(await me(session)).toBe(401);
		const [row] = await audits(person.id, 'account.frozen');
		expect([row!.actor_kind, JSON.parse(row!.details!).by]).toEqual(['anonymous', 'contact']);
	});

	it('§7b: the check page offers "Freeze this account" as a form action (JavaScript off), with a confirm box', async () => {
		const person = await owner();
		const jar: CookieJar = new Map();
		await prove(person.email, jar);
		const unconfirmed = await callEndpoint(checkPage.freeze!, app, {
			body: new URLSearchParams({ identifier: person.email }),
			headers: FORM,
			jar,
			clientAddress: ip()
		});
		expect(unconfirmed).toMatchObject({
			status: 400,
			data: { freezeError: { code: 'confirm_required' } }
		});
		expect(await frozenAt(person.id)).toBeNull();
		const done = (await callEndpoint(checkPage.freeze!, app, {
			body: new URLSearchParams({ identifier: person.email, confirm: 'yes' }),
			headers: FORM,
			jar,
			clientAddress: ip()
		})) as { frozen: boolean; report: { tier: string } };
		expect(done.frozen).toBe(true);
		expect(done.report.tier).toBe('verified');
		await expectFrozen(person);
	});

	/** A support action event as SvelteKit builds it after the hooks (an agent signed in). */
	function supportEvent(agent: Agent, id: string, form: Record<string, string>) {
		const url = new URL(`/support/accounts/${id}?/liftFreeze`, 'http://127.0.0.1');
		const body = new FormData();
		for (const [name, value] of Object.entries(form)) body.append(name, value);
		return {
			url,
			request: new Request(url, { method: 'POST', body }),
			params: { id },
			locals: {
				app,
				clientAddress: '203.0.113.51',
				ipCountry: null,
				deviceId: 'd',
				session: null,
				account: null,
				agent,
				agentSession: null
			},
			setHeaders: () => {},
			cookies: { get: () => undefined }
		} as unknown as RequestEvent<{ id: string }> &
			Parameters<NonNullable<typeof supportAccount.liftFreeze>>[0];
	}
	async function lift(agent: Agent, id: string, form: Record<string, string>) {
		try {
			const value = (await supportAccount.liftFreeze!(supportEvent(agent, id, form))) as {
				status?: number;
				data?: unknown;
			};
			return 'status' in value ? { status: value.status, body: value.data } : { body: value };
		} catch (thrown) {
			if (isRedirect(thrown) || isHttpError(thrown)) return { status: thrown.status };
			throw thrown;
		}
	}

	it('§7b: an agent lifts a freeze only with confirm=yes; audited, and email and phone told', async () => {
		const agent = await makeAgent(app);
		const person = await owner();
		await freezeAccount(app, person.id, { kind: 'owner' }, { ip: null });
		expect(await lift(agent, person.id, {})).toMatchObject({
			status: 400,
			body: { error: { code: 'confirm_required' } }
		});
		expect(await lift(agent, person.id, { confirm: 'no' })).toMatchObject({ status: 400 });
		expect(await frozenAt(person.id)).not.toBeNull();
		expect(await lift(agent, person.id, { confirm: 'yes' })).toEqual({ body: { lifted: true } });
		expect(await frozenAt(person.id)).toBeNull();
		expect(await messages(person.email, 'account_unfrozen')).toHaveLength(1);
		expect(await messages(person.phone, 'account_unfrozen')).toHaveLength(1);
		const [row] = await audits(person.id, 'account.freeze_lifted');
		expect([row!.actor_kind, row!.actor_id, JSON.parse(row!.details!).by]).toEqual([
			'agent',
			agent.id,
			'agent'
		]);
	});

	it('§7b: finishing a password reset with a code sent to a bound contact lifts the freeze', async () => {
		const person = await owner();
		await freezeAccount(app, person.id, { kind: 'owner' }, { ip: null });
		app.clock.advance(1000);
		expect((await resetByCode(person.phone)).status).toBe(204);
		expect(await frozenAt(person.id)).toBeNull();
		expect(await messages(person.email, 'account_unfrozen')).toHaveLength(1);
		expect(await messages(person.phone, 'account_unfrozen')).toHaveLength(1);
		const [row] = await audits(person.id, 'account.freeze_lifted');
		expect(JSON.parse(row!.details!)).toMatchObject({ by: 'reset', via: 'code' });
	});

	it('§7b: finishing a password reset with the link sent to a bound contact lifts the freeze', async () => {
		const person = await owner();
		await freezeAccount(app, person.id, { kind: 'owner' }, { ip: null });
		app.clock.advance(1000);
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: person.email },
					clientAddress: ip()
				})
			).status
		).toBe(202);
		const text = (await latestMessage(database.db, person.email)).text;
		const token = new URL(
			/(\S*\/reset-password\?token=\S+)/.exec(text)![1]!,
			'http://x'
		).searchParams.get('token')!;
		const res = await callEndpoint(confirmReset, app, {
			json: { token, newPassword: NEW_PASSWORD },
			clientAddress: ip()
		});
		expect(res.status).toBe(204);
		expect(await frozenAt(person.id)).toBeNull();
		const [row] = await audits(person.id, 'account.freeze_lifted');
		expect(JSON.parse(row!.details!)).toMatchObject({ by: 'reset', via: 'link' });
	});

	it('§7b: a reset of an account that is not frozen sends no lift notice', async () => {
		const person = await owner();
		expect((await resetByCode(person.email)).status).toBe(204);
		expect(await messages(person.email, 'account_unfrozen')).toHaveLength(0);
		expect(await audits(person.id, 'account.freeze_lifted')).toHaveLength(0);
	});
});
