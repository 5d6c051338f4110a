import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/lib/server/core/audit';
import { eraseAccount, eraseDueAccounts } from '../../src/lib/server/data-rights';
import { ERASED_DETAILS } from '../../src/lib/server/db/migrations/0020-data-rights';
import { runRetention } from '../../src/lib/server/retention/tables';
import { GET as me } from '../../src/routes/api/v1/account/+server';
import { POST as exportApi } from '../../src/routes/api/v1/account/export/+server';
import {
	DELETE as keepApi,
	POST as deletionApi
} from '../../src/routes/api/v1/account/deletion/+server';
import { POST as keepByLink } from '../../src/routes/api/v1/deletion/cancel/+server';
import { POST as cancelRecovery } from '../../src/routes/api/v1/recovery/cancel/+server';
import { freezeAccount } from '../../src/lib/server/accounts/freeze';
import { runRecoveryJobs } from '../../src/lib/server/appeals/recovery';
import { claimAppeal, decideAppeal } from '../../src/lib/server/appeals/decisions';
import { makeAgent } from '../support/agents';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as register } from '../../src/routes/api/v1/registrations/+server';
import { POST as confirmRegistration } from '../../src/routes/api/v1/registrations/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { openTestApp, type TestApp } from '../support/app-context';
import { approvedByAnAgent, fileAppeal, filedAppeal } from '../support/appeals';
import { latestCode, latestMessage } from '../support/codes';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';
import { setUpTotp } from '../support/totp-setup';
import { appCode } from '../support/two-step';

const DAY = 86_400_000;
const GRACE = 14 * DAY;
const ORIGIN = 'https://asc.example';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const LINK = /\/account\/deletion\/cancel\?token=([a-z2-7]+)/;
const RECOVERY_LINK = /\/recovery\/cancel\?token=([a-z2-7]+)/;

describe.each(testDatabases)('R28 the owner’s data rights on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let sequence = 0;
	/** A fresh client network per call, so the per-network caps never interfere between tests. */
	const ip = () => `100.66.${Math.floor(++sequence / 250)}.${sequence % 250}`;
	beforeAll(async () => {
		({ database, app } = await openTestApp(open, {
			// R27: deliveries are recorded (nobody sends them here), so erasure can be seen on them.
			env: { ORIGIN, WEBHOOK_URL: 'http://127.0.0.1:9/hooks', WEBHOOK_SECRET }
		}));
	});
	afterAll(() => database.dispose());

	/** An account bound to an email and a phone, signed in on one browser. */
	async function owner(signIn: { clientAddress?: string; userAgent?: string } = {}) {
		const phone = uniqueCnMobile();
		const member = await insertMember(app, 'rights', { account: { phone } });
		const jar = await signedInBrowser(app, member.email, {
			clientAddress: signIn.clientAddress ?? ip(),
			...(signIn.userAgent ? { userAgent: signIn.userAgent } : {})
		});
		return { ...member, phone, jar };
	}
	const exportOf = (jar: CookieJar, json: Record<string, unknown>) =>
		callEndpoint(exportApi, app, { json, jar, clientAddress: ip() });
	const askDeletion = (jar: CookieJar, currentPassword = PASSWORD) =>
		callEndpoint(deletionApi, app, { json: { currentPassword }, jar, clientAddress: ip() });
	const keep = (token: string, clientAddress = ip()) =>
		callEndpoint(keepByLink, app, { json: { token }, clientAddress });
	const row = (id: string) =>
		database.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
	const linkIn = async (recipient: string) =>
		LINK.exec((await latestMessage(database.db, recipient, 'deletion_scheduled')).text)?.[1];
	const webhookTypes = async (accountId: string) =>
		(
			await database.db
				.selectFrom('webhook_deliveries')
				.select('type')
				.where('account_id', '=', accountId)
				.orderBy('seq')
				.execute()
		).map((r) => r.type);

	it('R28: the export is a JSON attachment of what is held, after the password again', async () => {
		const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) RightsTest/1.0';
		const signedInFrom = ip();
		const { email, phone, id, jar } = await owner({ clientAddress: signedInFrom, userAgent });
		const wrong = await exportOf(jar, { currentPassword: 'not my password' });
		expect(wrong.status).toBe(403);
		expect((await wrong.json()).error.code).toBe('invalid_credentials');

		const res = await exportOf(jar, { currentPassword: PASSWORD });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-disposition')).toMatch(
			/^attachment; filename="account-data-\d{4}-\d{2}-\d{2}\.json"$/
		);
		expect(res.headers.get('cache-control')).toBe('no-store');
		const text = await res.text();
		const file = JSON.parse(text);
		expect(file.format).toBe('account-security-check.export');
		expect(file.account).toMatchObject({ id, email, phone, status: 'active' });
		expect(file.sessions).toEqual([
			expect.objectContaining({ ip: signedInFrom, userAgent, networkCountry: null })
		]);
		expect(file.securityEvents.map((e: { action: string }) => e.action)).toContain(
			'session.signed_in'
		);
		// Nothing secret: no password hash, no session token or its hash.
		const token = [...jar.values()].find((v) => v.length >= 32)!;
		expect(text).not.toMatch(/argon2/);
		expect(text).not.toContain(token);
		expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
		// The export itself is audited, after the copy was made.
		expect(
			await database.db
				.selectFrom('audit_events')
				.select('action')
				.where('subject_id', '=', id)
				.where('action', '=', 'account.data_exported')
				.execute()
		).toHaveLength(1);
	});

	it('R28: with an authenticator app on, the export also takes its code (or a recovery code)', async () => {
		const { jar } = await owner();
		const { secret, recoveryCodes } = await setUpTotp(app, jar);
		const without = await exportOf(jar, { currentPassword: PASSWORD });
		expect(without.status).toBe(403);
		const refused = (await without.json()).error;
		expect(refused.code).toBe('second_factor_required');
		expect(Object.keys(refused.fields)).toEqual(['code']);
		const wrongCode = await exportOf(jar, { currentPassword: PASSWORD, code: '000000' });
		expect((await wrongCode.json()).error.code).toBe('code_invalid');
		const withApp = await exportOf(jar, {
			currentPassword: PASSWORD,
			code: appCode(secret, app.clock)
		});
		expect(withApp.status).toBe(200);
		expect((await withApp.json()).twoStep).toMatchObject({
			authenticatorApp: true,
			recoveryCodesLeft: 10
		});
		app.clock.advance(30_000);
		const withRecovery = await exportOf(jar, {
			currentPassword: PASSWORD,
			code: recoveryCodes[0]
		});
		expect(withRecovery.status).toBe(200);
		expect((await withRecovery.json()).twoStep.recoveryCodesLeft).toBe(9);
	});

	it('R28: an appeal filed for the account is listed with masked contacts, not the appellant’s words', async () => {
		const { email, jar } = await owner();
		const description = 'Appellant words that belong to them, not to the account holder here.';
		const filed = await fileAppeal(app, { identifier: email, description });
		expect(filed.response.status).toBe(201);
		const text = await (await exportOf(jar, { currentPassword: PASSWORD })).text();
		const file = JSON.parse(text);
		expect(file.appeals).toEqual([
			expect.objectContaining({ status: 'submitted', newContact: expect.stringContaining('***') })
		]);
		expect(text).not.toContain(description);
		expect(text).not.toContain(filed.newIdentifier);
		// Messages are listed by purpose: the appeal's notice to this email, never its text.
		expect(file.messagesSent).toContainEqual(
			expect.objectContaining({ to: email, purpose: 'recovery_filed', channel: 'email' })
		);
	});

	it('R28: support’s entries in the copy say what was done, never the agent’s address or notes', async () => {
		const { id, jar } = await owner();
		await audit(app, {
			actorKind: 'agent',
			actorId: 'agent-1',
			action: 'support.review_cleared',
			subjectKind: 'account',
			subjectId: id,
			ip: '198.51.100.77',
			details: { reason: 'Agent note about the buyer' }
		});
		const text = await (await exportOf(jar, { currentPassword: PASSWORD })).text();
		expect(text).not.toContain('198.51.100.77');
		expect(text).not.toContain('Agent note');
		expect(text).not.toContain('agent-1');
		expect(JSON.parse(text).securityEvents).toContainEqual(
			expect.objectContaining({ action: 'support.review_cleared', by: 'support', ip: null })
		);
	});

	it('R28: a deletion waits 14 days: 202, every session ends, each contact gets its own keep link', async () => {
		const { email, phone, id, jar } = await owner();
		const other = await signedInBrowser(app, email, { clientAddress: ip() });
		const wrong = await askDeletion(jar, 'not my password');
		expect((await wrong.json()).error.code).toBe('invalid_credentials');
		expect((await row(id))?.deletion_due_at).toBeNull();

		const asked = await askDeletion(jar);
		expect(asked.status).toBe(202);
		const effectiveAt = app.clock.now().getTime() + GRACE;
		expect(await asked.json()).toEqual({
			status: 'scheduled',
			effectiveAt: new Date(effectiveAt).toISOString()
		});
		expect(Number((await row(id))?.deletion_due_at)).toBe(effectiveAt);
		// Every session, this one and the other browser's.
		for (const browser of [jar, other])
			expect((await callEndpoint(me, app, { method: 'GET', jar: browser })).status).toBe(401);
		const [emailLink, phoneLink] = [await linkIn(email), await linkIn(phone)];
		expect(emailLink).toMatch(/^[a-z2-7]{32}$/);
		expect(phoneLink).toMatch(/^[a-z2-7]{32}$/);
		expect(emailLink).not.toBe(phoneLink);
		expect(await webhookTypes(id)).toContain('account.deletion_scheduled');

		// Asked again from a new sign-in: the same time, nothing sent again.
		app.clock.advance(DAY);
		const again = await askDeletion(await signedInBrowser(app, email, { clientAddress: ip() }));
		expect(again.status).toBe(202);
		expect((await again.json()).effectiveAt).toBe(new Date(effectiveAt).toISOString());
		const notices = await database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', 'in', [email, phone])
			.where('purpose', '=', 'deletion_scheduled')
			.execute();
		expect(notices).toHaveLength(2);
	});

	it('R28: a keep link cancels it once; every other link of it is spent; contacts are told', async () => {
		const { email, phone, id, jar } = await owner();
		expect((await askDeletion(jar)).status).toBe(202);
		const [emailLink, phoneLink] = [(await linkIn(email))!, (await linkIn(phone))!];
		expect((await (await keep('not-a-link')).json()).error.code).toBe('link_invalid');
		// The test clock stands still between requests: a second on, so the newest message is known.
		app.clock.advance(1000);
		const kept = await keep(phoneLink);
		expect(kept.status).toBe(200);
		expect(await kept.json()).toEqual({ status: 'kept' });
		expect((await row(id))?.deletion_due_at).toBeNull();
		expect((await latestMessage(database.db, email)).purpose).toBe('deletion_cancelled');
		expect((await latestMessage(database.db, phone)).purpose).toBe('deletion_cancelled');
		for (const used of [phoneLink, emailLink])
			expect((await (await keep(used)).json()).error.code).toBe('link_invalid');
		expect(await webhookTypes(id)).toContain('account.deletion_cancelled');
		// Nothing waits any more: the erasure's time passes and the account stays.
		app.clock.advance(GRACE + DAY);
		expect(await eraseAccount(app, id)).toBe(false);
		expect(await row(id)).toBeDefined();
	});

	it('R28/R24: refused keep links count against the network (20 an hour), a live one is refused only then', async () => {
		const from = ip();
		let status = 0;
		for (let i = 0; i < 21; i++) status = (await keep(`x${i}`, from)).status;
		expect(status).toBe(429);
		// From another network a live link works whatever that one spent.
		const { email, jar } = await owner();
		await askDeletion(jar);
		expect((await keep((await linkIn(email))!)).status).toBe(200);
	});

	it('R28: the owner who signs in again during the 14 days keeps the account (DELETE), once', async () => {
		const { email, id, jar } = await owner();
		await askDeletion(jar);
		const back = await signedInBrowser(app, email, { clientAddress: ip() });
		const view = async () =>
			(await (await callEndpoint(me, app, { method: 'GET', jar: back })).json()).deletionDueAt;
		expect(await view()).toBe(new Date(Number((await row(id))?.deletion_due_at)).toISOString());
		// The owner's activity shows it (a thief's request would show the same way).
		const activity = (await (await callEndpoint(me, app, { method: 'GET', jar: back })).json())
			.activity as { action: string }[];
		expect(activity.map((a) => a.action)).toContain('account.deletion_requested');
		const kept = await callEndpoint(keepApi, app, { method: 'DELETE', jar: back });
		expect(kept.status).toBe(200);
		expect((await row(id))?.deletion_due_at).toBeNull();
		expect(await view()).toBeNull();
		const again = await callEndpoint(keepApi, app, { method: 'DELETE', jar: back });
		expect(again.status).toBe(409);
		expect((await again.json()).error.code).toBe('no_pending_deletion');
		// The links sent with it are spent with it.
		expect((await (await keep((await linkIn(email))!)).json()).error.code).toBe('link_invalid');
	});

	it('R28: at the time, a link is too late (410) and the erasure wins; after it, the link is unknown', async () => {
		const { email, id, jar } = await owner();
		await askDeletion(jar);
		const link = (await linkIn(email))!;
		app.clock.advance(GRACE);
		expect((await (await keep(link)).json()).error.code).toBe('link_expired');
		expect((await row(id))?.deletion_due_at).not.toBeNull();
		// Two instances erasing at once: one erases, the other finds nothing.
		const erased = await Promise.all([eraseAccount(app, id), eraseAccount(app, id)]);
		expect(erased.filter(Boolean)).toHaveLength(1);
		expect(await row(id)).toBeUndefined();
		expect((await (await keep(link)).json()).error.code).toBe('link_invalid');
	});

	it('R28: after the erasure no table holds the person, the audit keeps ids only, and the contacts can register again', async () => {
		const signedInFrom = '100.70.1.2';
		const userAgent = 'Mozilla/5.0 ErasureMarker/7.7';
		const description = 'ErasureMarker description of a lost phone, long enough to be taken.';
		const { email, phone, id, jar } = await owner({ clientAddress: signedInFrom, userAgent });
		// Traces in every kind of table: two-step, an appeal with documents, checks, codes,
		// a wrong password (counters), a second device (a "this wasn't me" link), messages.
		await signedInBrowser(app, email, { clientAddress: ip() });
		await setUpTotp(app, jar, { clientAddress: signedInFrom });
		const appeal = await fileAppeal(app, { identifier: email, description });
		expect(appeal.response.status).toBe(201);
		// R24: an open appeal would hold the erasure back; the owner stops this one by its link.
		const stop = RECOVERY_LINK.exec(
			(await latestMessage(database.db, email, 'recovery_filed')).text
		);
		expect((await callEndpoint(cancelRecovery, app, { json: { token: stop![1] } })).status).toBe(
			200
		);
		await callEndpoint(check, app, { json: { identifier: email }, clientAddress: signedInFrom });
		await callEndpoint(requestReset, app, { json: { identifier: phone }, clientAddress: ip() });
		// An earlier email of the account (R16 history), checked since (a check event of its own).
		const earlier = uniqueEmail('earlier');
		await database.db
			.insertInto('contact_changes')
			.values({
				id: crypto.randomUUID(),
				account_id: id,
				kind: 'owner',
				old_identifier: earlier,
				new_identifier: email,
				changed_at: app.clock.now().getTime()
			})
			.execute();
		await callEndpoint(check, app, { json: { identifier: earlier }, clientAddress: ip() });
		await callEndpoint(signIn, app, {
			json: { identifier: email, password: 'a wrong password here' },
			clientAddress: signedInFrom
		});
		expect((await askDeletion(jar)).status).toBe(202);

		app.clock.advance(GRACE + 60_000);
		// The erasure job (every minute), then the hourly retention over what is left.
		expect(await eraseDueAccounts(app)).toBeGreaterThanOrEqual(1);
		expect(await row(id)).toBeUndefined();
		expect(await runRetention(app)).toMatchObject({ skipped: false, failed: [] });

		// Besides what the person gave, the keyed hashes of their contacts (check events, counters).
		const hashed = [email, phone, earlier].map((value) => app.keys.hmac('identifier', value));
		const marks = [email, phone, earlier, id, signedInFrom, userAgent, description, ...hashed];
		for (const [table, rows] of Object.entries(await everyTable())) {
			for (const stored of rows) {
				const text = JSON.stringify(stored);
				const found = marks.filter((mark) => text.includes(mark));
				if (found.length === 0) continue;
				if (table === 'audit_events') {
					// Kept (R22) with what happened, when and the ids; nothing else about the person.
					expect(found).toEqual([id]);
					expect(stored.ip).toBeNull();
					expect(
						stored.details === ERASED_DETAILS ||
							(stored.action === 'account.erased' && stored.details === null)
					).toBe(true);
				} else if (table === 'webhook_deliveries') {
					// R27: the last word to the marketplace, the account's id only.
					expect(found).toEqual([id]);
					expect(stored.type).toBe('account.deleted');
					expect(JSON.parse(String(stored.body)).data).toEqual({ accountId: id });
				} else if (table === 'outbox') {
					// The last message to each contact, until delivered and OUTBOX_RETENTION_DAYS.
					expect(stored.purpose).toBe('account_erased');
					expect(found).toEqual([stored.recipient]);
				} else {
					expect.fail(`${table} still holds ${found.join(', ')}: ${text.slice(0, 300)}`);
				}
			}
		}
		const audits = await database.db
			.selectFrom('audit_events')
			.select(['action', 'ip', 'details'])
			.where('subject_id', '=', id)
			.execute();
		expect(audits.length).toBeGreaterThan(5);
		expect(audits.map((a) => a.action)).toContain('account.erased');

		// The email and the phone are free: each can be registered again.
		for (const identifier of [email, phone]) {
			const browser: CookieJar = new Map();
			const started = await callEndpoint(register, app, {
				json: { identifier, password: PASSWORD, country: 'CN' },
				jar: browser,
				clientAddress: ip()
			});
			expect(started.status).toBe(202);
			const confirmed = await callEndpoint(confirmRegistration, app, {
				json: {
					identifier,
					code: await latestCode(database.db, identifier, 'register'),
					country: 'CN'
				},
				jar: browser,
				clientAddress: ip()
			});
			expect(confirmed.status).toBe(201);
		}
	});

	it('R22/R28: the audit log lets only the erasure’s redaction through, of rows whose account is gone', async () => {
		const { id } = await owner();
		const entry = await database.db
			.selectFrom('audit_events')
			.select(['id'])
			.where('subject_id', '=', id)
			.executeTakeFirstOrThrow();
		const update = (set: Record<string, unknown>) =>
			database.db.updateTable('audit_events').set(set).where('id', '=', entry.id).execute();
		const redaction = { ip: null, details: ERASED_DETAILS };
		// While the account exists, not even the redaction.
		await expect(update(redaction)).rejects.toThrow(/append-only/);
		await database.db.deleteFrom('accounts').where('id', '=', id).execute();
		await expect(update({ details: '{"forged":true}' })).rejects.toThrow(/append-only/);
		await expect(update({ ...redaction, action: 'other' })).rejects.toThrow(/append-only/);
		await expect(update({ ...redaction, ip: '1.2.3.4' })).rejects.toThrow(/append-only/);
		await expect(
			database.db.deleteFrom('audit_events').where('id', '=', entry.id).execute()
		).rejects.toThrow(/append-only/);
		// No row replaced (SQLite's INSERT OR REPLACE) or truncated (PostgreSQL).
		if (database.dialect === 'sqlite')
			await expect(
				sql`insert or replace into audit_events (id, at, actor_kind, action)
					values (${entry.id}, 0, 'system', 'forged')`.execute(database.db)
			).rejects.toThrow(/append-only/);
		else
			await expect(sql`truncate audit_events`.execute(database.db)).rejects.toThrow(/append-only/);
		await update(redaction);
		expect(
			await database.db
				.selectFrom('audit_events')
				.select(['ip', 'details', 'subject_id', 'action'])
				.where('id', '=', entry.id)
				.executeTakeFirst()
		).toMatchObject({ ip: null, details: ERASED_DETAILS, subject_id: id });
	});

	it('R28/R24: an open appeal holds the erasure back; once it is stopped the erasure goes on', async () => {
		const { email, id, jar } = await owner();
		await askDeletion(jar);
		const filed = await filedAppeal(app, { identifier: email });
		app.clock.advance(GRACE + DAY);
		await eraseDueAccounts(app);
		expect(await row(id)).toBeDefined();
		const agent = await makeAgent(app);
		const meta = { ip: '203.0.113.9' };
		await claimAppeal(app, agent, filed.row.id, { takeOver: false }, meta);
		const reason = 'The documents do not match the account.';
		expect(
			(await decideAppeal(app, agent, filed.row.id, { kind: 'reject', reason }, meta)).ok
		).toBe(true);
		await eraseDueAccounts(app);
		expect(await row(id)).toBeUndefined();
	});

	it('R28/R21: an appeal’s rebind keeps the account: its new holder did not ask for the deletion', async () => {
		const signedInFrom = ip();
		const { email, id, jar } = await owner({ clientAddress: signedInFrom });
		await askDeletion(jar);
		const filed = await filedAppeal(app, { identifier: email });
		expect((await approvedByAnAgent(app, filed.row.id)).ok).toBe(true);
		app.clock.advance(73 * 3_600_000);
		expect((await runRecoveryJobs(app)).rebound).toBeGreaterThanOrEqual(1);
		expect((await row(id))?.deletion_due_at).toBeNull();
		expect((await row(id))?.email).toBe(filed.newIdentifier);
		// The new holder's copy: the previous holder's contact masked, their addresses left out.
		const holder = await signedInBrowser(app, filed.newIdentifier, { clientAddress: ip() });
		const text = await (await exportOf(holder, { currentPassword: PASSWORD })).text();
		expect(text).not.toContain(email);
		expect(text).not.toContain(signedInFrom);
		expect(JSON.parse(text).contactChanges).toEqual([
			expect.objectContaining({ how: 'appeal', to: filed.newIdentifier })
		]);
		app.clock.advance(GRACE);
		await eraseDueAccounts(app);
		expect(await row(id)).toBeDefined();
		expect(
			await database.db
				.selectFrom('audit_events')
				.select('details')
				.where('subject_id', '=', id)
				.where('action', '=', 'account.deletion_cancelled')
				.execute()
		).toEqual([{ details: expect.stringContaining('"by":"recovery"') }]);
	});

	it('R28/§7b: a freeze keeps the account too (one step stops everything); contacts are told', async () => {
		const { email, id, jar } = await owner();
		await askDeletion(jar);
		const link = (await linkIn(email))!;
		app.clock.advance(1000);
		expect((await freezeAccount(app, id, { kind: 'link' }, { ip: null })).ok).toBe(true);
		expect((await row(id))?.deletion_due_at).toBeNull();
		expect((await latestMessage(database.db, email, 'deletion_cancelled')).purpose).toBe(
			'deletion_cancelled'
		);
		expect((await (await keep(link)).json()).error.code).toBe('link_invalid');
		app.clock.advance(GRACE + DAY);
		await eraseDueAccounts(app);
		expect(await row(id)).toBeDefined();
	});

	/** Every table the migrations made, with all of its rows. */
	async function everyTable(): Promise<Record<string, Record<string, unknown>[]>> {
		const db = database.db;
		const names =
			database.dialect === 'postgres'
				? (
						await sql<{ name: string }>`select table_name as name from information_schema.tables
							where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)
					).rows
				: (
						await sql<{ name: string }>`select name from sqlite_master
							where type = 'table' and name not like 'sqlite_%'`.execute(db)
					).rows;
		expect(names.length).toBeGreaterThan(25);
		const all: Record<string, Record<string, unknown>[]> = {};
		for (const { name } of names)
			all[name] = (
				await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)
			).rows.map((r) =>
				Object.fromEntries(
					Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? '<bytes>' : v])
				)
			);
		return all;
	}
});
