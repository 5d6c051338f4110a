import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appealEvidence, type EvidenceFlag } from '../../src/lib/server/appeals/evidence';
import type { NewAccount } from '../../src/lib/server/db/schema';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { load as appealPage } from '../../src/routes/support/appeals/[id]/+page.server';
import { makeAgent } from '../support/agents';
import { testAppContext } from '../support/app-context';
import { fileAppeal, nextAddress, tempStorageDir } from '../support/appeals';
import { latestCode } from '../support/codes';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint } from '../support/endpoints';
import { insertAccount } from '../support/factories';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(testDatabases)('§8 appeal evidence on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { APPEAL_STORAGE_DIR: tempStorageDir() } });
	});
	afterAll(() => database.dispose());

	const iso = (ms: number) => new Date(ms).toISOString();
	const now = () => app.clock.now().getTime();

	/** An appeal filed now, the real way, for `account`'s email. */
	async function appealFor(account: NewAccount): Promise<{ id: string; filedAt: number }> {
		const filed = await fileAppeal(app, { identifier: account.email! });
		const { reference } = (await filed.response.json()) as { reference: string };
		const row = await database.db
			.selectFrom('appeals')
			.select(['id', 'created_at'])
			.where('reference', '=', reference)
			.executeTakeFirstOrThrow();
		return { id: row.id, filedAt: Number(row.created_at) };
	}
	async function flags(appealId: string): Promise<EvidenceFlag[]> {
		const evidence = await appealEvidence(app, appealId);
		if (!evidence) throw new Error('no evidence');
		return evidence.flags;
	}
	const flag = async <K extends EvidenceFlag['kind']>(appealId: string, kind: K) =>
		(await flags(appealId)).find((f): f is Extract<EvidenceFlag, { kind: K }> => f.kind === kind);
	const setAppeal = (id: string, values: Record<string, unknown>) =>
		database.db.updateTable('appeals').set(values).where('id', '=', id).execute();

	it('§8: an account with nothing recorded against it shows no warning signs', async () => {
		const account = await insertAccount(database.db, { reg_ip_country: 'CN' });
		const appeal = await appealFor(account);
		expect(await appealEvidence(app, appeal.id)).toEqual({
			networkCountry: null,
			filedAt: iso(appeal.filedAt),
			windowDays: 14,
			flags: []
		});
		await setAppeal(appeal.id, { ip_country: 'CN' });
		expect(await flags(appeal.id)).toEqual([]);
		expect(await appealEvidence(app, randomUUID())).toBeNull();
	});

	it('§8 (a): a reset code sent to the lost contact and used, the reset and a contact change in the 14 days before the appeal are listed with when', async () => {
		const account = await insertAccount(database.db);
		await database.db
			.insertInto('contact_changes')
			.values({
				id: randomUUID(),
				account_id: account.id!,
				kind: 'owner',
				old_identifier: 'before@example.com',
				new_identifier: account.email!,
				changed_at: now() - 3 * DAY
			})
			.execute();
		const requestedAt = now();
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: account.email },
					clientAddress: nextAddress()
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, account.email!);
		app.clock.advance(2 * 60_000);
		const resetAt = now();
		const reset = await callEndpoint(confirmReset, app, {
			json: {
				identifier: account.email,
				code,
				newPassword: 'a thief picked this one quickly'
			},
			clientAddress: nextAddress()
		});
		expect(reset.status).toBe(204);
		app.clock.advance(5 * 60_000);
		const appeal = await appealFor(account);

		const found = await flag(appeal.id, 'lost_contact_active');
		expect(found?.at).toBe(iso(resetAt));
		expect(found?.events).toEqual([
			{ what: 'code_used', purpose: 'password_reset', at: iso(resetAt) },
			{ what: 'password_reset', purpose: null, at: iso(resetAt) },
			{ what: 'code_sent', purpose: 'password_reset', at: iso(requestedAt) },
			{ what: 'contact_changed', purpose: null, at: iso(requestedAt - 3 * DAY) }
		]);
	});

	it('§8 (a): activity more than 14 days before the appeal, or on another contact, is no warning sign', async () => {
		const account = await insertAccount(database.db);
		const other = await insertAccount(database.db);
		for (const who of [account, other])
			expect(
				(
					await callEndpoint(requestReset, app, {
						json: { identifier: who.email },
						clientAddress: nextAddress()
					})
				).status
			).toBe(202);
		app.clock.advance(14 * DAY + 60_000);
		await callEndpoint(requestReset, app, {
			json: { identifier: other.email },
			clientAddress: nextAddress()
		});
		const appeal = await appealFor(account);
		expect(await flag(appeal.id, 'lost_contact_active')).toBeUndefined();
	});

	it('§8 (b): an appeal from a network country the account never used is flagged; one it used is not', async () => {
		const account = await insertAccount(database.db, { reg_ip_country: 'CN' });
		const appeal = await appealFor(account);
		await setAppeal(appeal.id, { ip_country: 'US' });
		expect(await flag(appeal.id, 'new_network_country')).toEqual({
			kind: 'new_network_country',
			at: iso(appeal.filedAt),
			country: 'US',
			knownCountries: ['CN']
		});
		// A session from Japan and a sign-in recorded from the US before the appeal: both known.
		await database.db
			.insertInto('sessions')
			.values({
				id: randomUUID(),
				account_id: account.id!,
				created_at: appeal.filedAt - DAY,
				last_active_at: appeal.filedAt - DAY,
				expires_at: appeal.filedAt + DAY,
				ip: null,
				ip_country: 'JP',
				user_agent: null
			})
			.execute();
		expect((await flag(appeal.id, 'new_network_country'))?.knownCountries).toEqual(['CN', 'JP']);
		await database.db
			.insertInto('audit_events')
			.values({
				at: appeal.filedAt - 2 * DAY,
				actor_kind: 'account',
				actor_id: account.id!,
				action: 'session.signed_in',
				subject_kind: 'account',
				subject_id: account.id!,
				ip: '198.51.100.4',
				details: JSON.stringify({ method: 'password', ipCountry: 'US', device: 'Firefox' })
			})
			.execute();
		expect(await flag(appeal.id, 'new_network_country')).toBeUndefined();
		await setAppeal(appeal.id, { ip_country: null });
		expect(await flag(appeal.id, 'new_network_country')).toBeUndefined();
	});

	it('§8 (c): two-step (a confirmed authenticator) or a passkey is shown with since when', async () => {
		const account = await insertAccount(database.db);
		const appeal = await appealFor(account);
		await database.db
			.insertInto('account_totp')
			.values({
				account_id: account.id!,
				secret: 'sealed',
				created_at: appeal.filedAt - 10 * DAY,
				confirmed_at: null,
				last_step: null
			})
			.execute();
		expect(await flag(appeal.id, 'second_factor')).toBeUndefined();
		await database.db
			.updateTable('account_totp')
			.set({ confirmed_at: appeal.filedAt - 9 * DAY })
			.where('account_id', '=', account.id!)
			.execute();
		expect(await flag(appeal.id, 'second_factor')).toEqual({
			kind: 'second_factor',
			at: iso(appeal.filedAt - 9 * DAY),
			totpSince: iso(appeal.filedAt - 9 * DAY),
			passkeys: 0,
			passkeysSince: null
		});

		const other = await insertAccount(database.db);
		const second = await appealFor(other);
		await database.db
			.insertInto('passkeys')
			.values({
				id: randomUUID(),
				account_id: other.id!,
				public_key: new Uint8Array([1, 2, 3]),
				counter: 0,
				transports: null,
				name: 'Phone',
				created_at: second.filedAt - 20 * DAY,
				last_used_at: null
			})
			.execute();
		expect(await flag(second.id, 'second_factor')).toEqual({
			kind: 'second_factor',
			at: iso(second.filedAt - 20 * DAY),
			totpSince: null,
			passkeys: 1,
			passkeysSince: iso(second.filedAt - 20 * DAY)
		});
	});

	it('§8 (d): a frozen account is shown with when it was frozen', async () => {
		const account = await insertAccount(database.db);
		const appeal = await appealFor(account);
		expect(await flag(appeal.id, 'frozen')).toBeUndefined();
		await database.db
			.updateTable('accounts')
			.set({ frozen_at: appeal.filedAt - HOUR })
			.where('id', '=', account.id!)
			.execute();
		expect(await flag(appeal.id, 'frozen')).toEqual({
			kind: 'frozen',
			at: iso(appeal.filedAt - HOUR)
		});
	});

	it('§8 (e): an earlier appeal for the account that was cancelled is shown with who and when; a rejected one is not', async () => {
		const account = await insertAccount(database.db);
		const earlier = await appealFor(account);
		const rejected = await appealFor(account);
		await setAppeal(rejected.id, { status: 'rejected', decided_at: now() });
		app.clock.advance(HOUR);
		const appeal = await appealFor(account);
		expect(await flag(appeal.id, 'earlier_appeal_cancelled')).toBeUndefined();
		const cancelledAt = now() - 30 * 60_000;
		await setAppeal(earlier.id, {
			status: 'cancelled',
			cancelled_at: cancelledAt,
			cancelled_by: 'link'
		});
		const { reference } = await database.db
			.selectFrom('appeals')
			.select('reference')
			.where('id', '=', earlier.id)
			.executeTakeFirstOrThrow();
		expect(await flag(appeal.id, 'earlier_appeal_cancelled')).toEqual({
			kind: 'earlier_appeal_cancelled',
			at: iso(cancelledAt),
			appeals: [{ reference, cancelledAt: iso(cancelledAt), cancelledBy: 'link' }]
		});
		// The cancelled appeal itself does not count against itself.
		expect(await flag(earlier.id, 'earlier_appeal_cancelled')).toBeUndefined();
	});

	it('§8: the appeal page gives the agent the evidence with the page', async () => {
		const agent = await makeAgent(app);
		const account = await insertAccount(database.db);
		const appeal = await appealFor(account);
		await database.db
			.updateTable('accounts')
			.set({ frozen_at: appeal.filedAt - HOUR })
			.where('id', '=', account.id!)
			.execute();
		await setAppeal(appeal.id, { ip_country: 'DE' });
		const page = (await callEndpoint(
			(event: Parameters<typeof appealPage>[0]) => {
				event.locals.agent = agent;
				return appealPage({ ...event, params: { id: appeal.id } });
			},
			app,
			{ method: 'GET', path: `/support/appeals/${appeal.id}` }
		)) as unknown as { evidence: { networkCountry: string; flags: { kind: string }[] } };
		expect(page.evidence.networkCountry).toBe('DE');
		expect(page.evidence.flags.map((f) => f.kind)).toEqual(['new_network_country', 'frozen']);
	});
});
