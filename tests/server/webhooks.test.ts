import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
	agentLiftFreeze,
	confirmRegistration,
	freezeOwnAccount,
	revokeOtherSessions,
	startRegistration
} from '../../src/lib/server/accounts';
import { audit } from '../../src/lib/server/core/audit';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import { openDatabase } from '../../src/lib/server/db/database';
import type { Account } from '../../src/lib/server/db/schema';
import { listOutboxFor } from '../../src/lib/server/messaging/outbox';
import { runRetention } from '../../src/lib/server/retention/tables';
import { listDeliveries, resendDelivery } from '../../src/lib/server/webhooks';
import { eventsOf } from '../../src/lib/server/webhooks/events';
import { createWebhookWorker, RETRY_WINDOW_MS } from '../../src/lib/server/webhooks/worker';
import { actions, load } from '../../src/routes/support/webhooks/+page.server';
import { makeAgent } from '../support/agents';
import { testAppContext, type TestApp } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { testDatabases, type TestDatabase } from '../support/databases';
import { uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD } from '../support/signed-in';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const meta: RequestMeta = {
	ip: '1.0.1.1',
	ipCountry: 'CN',
	deviceId: 'd'.repeat(64),
	locale: 'en',
	userAgent: null
};
const admin = { id: 'agent-admin-1', role: 'admin' as const };

interface Received {
	id: string;
	timestamp: number;
	type: string;
	accountId: string;
	body: string;
	json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * The receiver of the tests: a real HTTP server on 127.0.0.1 that verifies every Standard
 * Webhooks signature itself (written here, not imported from the app) and refuses a bad one.
 */
function webhookReceiver(secret: string) {
	const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
	const received: Received[] = [];
	const refused: string[] = [];
	const state = { up: true };
	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			const id = String(request.headers['webhook-id'] ?? '');
			const timestamp = String(request.headers['webhook-timestamp'] ?? '');
			const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
			const signatures = String(request.headers['webhook-signature'] ?? '').split(' ');
			const valid = signatures.some((entry) => {
				const [version, value] = entry.split(',');
				const given = Buffer.from(value ?? '', 'base64');
				return (
					version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)
				);
			});
			if (!valid) {
				refused.push(id);
				response.writeHead(401).end();
				return;
			}
			if (!state.up) {
				response.writeHead(503).end('down for maintenance');
				return;
			}
			const json = JSON.parse(body) as Received['json'];
			received.push({
				id,
				timestamp: Number(timestamp),
				type: json.type,
				accountId: String(json.data.accountId),
				body,
				json
			});
			response.writeHead(204).end();
		});
	});
	return {
		received,
		refused,
		state,
		async listen(): Promise<string> {
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve()))
	};
}

describe('R27: which audited actions are webhook events', () => {
	const entry = (action: string, details: Record<string, string | number | boolean | null> = {}) =>
		eventsOf({ actorKind: 'system', actorId: null, action, details });

	it.each([
		['support.review_cleared', {}, ['account.review_cleared']],
		['account.freeze_lifted', { by: 'agent' }, ['account.unfrozen']],
		['appeal.rejected', {}, ['appeal.decided']],
		['appeal.approved', { rebindDueAt: null }, ['appeal.decided']],
		[
			'appeal.approved',
			{ rebindDueAt: '2026-12-01T00:00:00.000Z' },
			['appeal.decided', 'account.recovery_pending']
		],
		['account.contact_rebound', { to: 'n***w@e***.com' }, ['account.recovery_applied']],
		[
			'account.recovery_cancelled',
			{ by: 'link', reference: 'A-1' },
			['account.recovery_cancelled']
		],
		['account.password_reset', { via: 'code' }, ['account.password_reset']],
		['account.two_step_on', { method: 'totp' }, ['account.two_step_on']],
		['account.two_step_undone', {}, ['account.two_step_off']],
		['session.signed_in', {}, []],
		['support.review_confirmed', { reason: 'typed by an agent' }, []]
	] as const)('%s %j → %j', (action, details, types) => {
		expect(entry(action, details).map((event) => event.type)).toEqual(types);
	});

	it('data carries only the named keys: no agent reason, no appeal reference, no device', () => {
		const [cancelled] = entry('account.recovery_cancelled', {
			by: 'link',
			reference: 'A-1',
			ipCountry: 'CN'
		});
		expect(cancelled!.data).toEqual({ by: 'link' });
		const [reset] = entry('account.password_reset', {
			via: 'code',
			device: 'Chrome on Linux',
			ipCountry: 'CN'
		});
		expect(reset!.data).toEqual({ via: 'code' });
	});
});

describe.each(testDatabases)('R27 signed webhooks on $name', ({ name, open }) => {
	const receiver = webhookReceiver(SECRET);
	let database: TestDatabase;
	let app: TestApp;
	let env: Record<string, string>;

	const worker = (ctx: TestApp) =>
		createWebhookWorker({ db: ctx.db, clock: ctx.clock, secret: ctx.config.webhooks!.secret });
	const deliveries = (accountId: string) =>
		database.db
			.selectFrom('webhook_deliveries')
			.selectAll()
			.where('account_id', '=', accountId)
			.orderBy('seq')
			.execute();
	const receivedFor = (accountId: string) =>
		receiver.received.filter((event) => event.accountId === accountId);
	const accountRow = (id: string): Promise<Account> =>
		database.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

	async function register(email: string, country = 'CN') {
		const started = await startRegistration(
			app,
			{ identifier: email, password: PASSWORD, country },
			{ ...meta, starter: 's'.repeat(32) }
		);
		expect(started).toMatchObject({ ok: true });
		const [message] = await listOutboxFor(app, email);
		const confirmed = await confirmRegistration(
			app,
			{ identifier: email, code: message!.code!, country },
			{ ...meta, starter: 's'.repeat(32) }
		);
		if (!confirmed.ok) throw new Error(`registration failed: ${confirmed.code}`);
		return confirmed.account;
	}

	beforeAll(async () => {
		const url = await receiver.listen();
		env = { WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET };
		database = await open();
		app = testAppContext(database, { env });
	});
	afterAll(async () => {
		await app.close();
		await database.dispose();
		await receiver.close();
	});
	beforeEach(() => {
		receiver.state.up = true;
	});

	it('R27: a registration is one signed account.registered delivery: masked, no code or password', async () => {
		const email = uniqueEmail('hook-register');
		const account = await register(email);
		const [stored] = await deliveries(account.id);
		expect(stored).toMatchObject({ type: 'account.registered', status: 'pending' });
		// The buyer's request stored it and returned: nothing was sent yet.
		expect(receivedFor(account.id)).toHaveLength(0);
		const code = (await listOutboxFor(app, email))[0]!.code!;

		expect(await worker(app).runOnce()).toMatchObject({ delivered: 1, retried: 0 });
		const [event] = receivedFor(account.id);
		expect(event).toMatchObject({ id: stored!.id, type: 'account.registered' });
		expect(event!.id).toMatch(/^msg_/);
		expect(event!.timestamp).toBe(Math.floor(app.clock.now().getTime() / 1000));
		expect(event!.json).toEqual({
			type: 'account.registered',
			timestamp: app.clock.now().toISOString(),
			data: { accountId: account.id, status: 'active' }
		});
		for (const secret of [email, code, PASSWORD, email.split('@')[0]!])
			expect(event!.body).not.toContain(secret);
		expect(receiver.refused).toEqual([]);
		expect((await deliveries(account.id))[0]).toMatchObject({ status: 'delivered', attempts: 0 });
	});

	it('R27 + R9: a registration from another country also starts a risk review event', async () => {
		const account = await register(uniqueEmail('hook-review'), 'US');
		await worker(app).runOnce();
		expect(receivedFor(account.id).map((event) => event.type)).toEqual([
			'account.registered',
			'account.review_started'
		]);
	});

	it('R27: a receiver down for 2 hours gets every event afterwards, once each, in order per account', async () => {
		const member = await insertMember(app, 'hook-outage');
		const run = worker(app);
		receiver.state.up = false;
		const expected: string[] = [];
		// Five events over the outage, the worker trying all along.
		for (let round = 0; round < 2; round += 1) {
			expect(
				await freezeOwnAccount(app, await accountRow(member.id), PASSWORD, meta)
			).toMatchObject({ ok: true });
			await run.runOnce();
			app.clock.advance(20 * MINUTE);
			await run.runOnce();
			expect(await agentLiftFreeze(app, admin, member.id, 'yes', { ip: '10.0.0.1' })).toMatchObject(
				{ ok: true }
			);
			expected.push('account.frozen', 'account.unfrozen');
			app.clock.advance(20 * MINUTE);
			await run.runOnce();
		}
		await revokeOtherSessions(app, await accountRow(member.id), { ...meta, sessionId: null });
		expected.push('account.sessions_ended');
		for (let minutes = 0; minutes < 40; minutes += 5) {
			app.clock.advance(5 * MINUTE);
			await run.runOnce();
		}
		expect(receivedFor(member.id)).toHaveLength(0);
		const waiting = await deliveries(member.id);
		expect(waiting.every((row) => row.status === 'pending')).toBe(true);
		// Only the head of the account's queue was tried; the others wait behind it.
		expect(waiting[0]!.attempts).toBeGreaterThan(3);
		expect(waiting.slice(1).every((row) => row.attempts === 0)).toBe(true);
		expect(waiting[0]!.last_error).toBe('HTTP 503');

		receiver.state.up = true;
		// Back-off is capped at an hour: within it every event arrives.
		for (let minutes = 0; minutes < 70; minutes += 10) {
			app.clock.advance(10 * MINUTE);
			await run.runOnce();
		}
		const got = receivedFor(member.id);
		expect(got.map((event) => event.type)).toEqual(expected);
		expect(new Set(got.map((event) => event.id)).size).toBe(expected.length);
		expect((await deliveries(member.id)).map((row) => row.status)).toEqual(
			expected.map(() => 'delivered')
		);
		// Nothing more goes out later.
		app.clock.advance(2 * HOUR);
		await run.runOnce();
		expect(receivedFor(member.id)).toHaveLength(expected.length);
	});

	it("R27: retried for 24 hours, then failed — and the account's next event goes; an admin resends it", async () => {
		const member = await insertMember(app, 'hook-failed');
		const run = worker(app);
		receiver.state.up = false;
		await freezeOwnAccount(app, await accountRow(member.id), PASSWORD, meta);
		await agentLiftFreeze(app, admin, member.id, 'yes', { ip: '10.0.0.1' });
		for (let hours = 0; hours <= 25; hours += 1) {
			await run.runOnce();
			app.clock.advance(HOUR);
		}
		await run.runOnce();
		const [first, second] = await deliveries(member.id);
		expect(first).toMatchObject({ status: 'failed', last_error: 'HTTP 503' });
		expect(second).toMatchObject({ status: 'failed' });
		// A failed head no longer holds the queue: the next event was tried then, once (its own 24
		// hours had passed behind the head), not earlier — the order held all along.
		expect(second!.attempts).toBe(1);
		expect(first!.attempts).toBeGreaterThan(10);

		const listed = await listDeliveries(app);
		expect(listed[0]!.status).toBe('failed');
		expect(listed.find((row) => row.id === first!.id)).toMatchObject({
			host: new URL(env.WEBHOOK_URL!).host,
			type: 'account.frozen'
		});
		// Agents cannot resend; admins can, once.
		expect(await resendDelivery(app, { id: 'agent-1', role: 'agent' }, first!.id, meta)).toBe(
			false
		);
		receiver.state.up = true;
		expect(await resendDelivery(app, admin, first!.id, meta)).toBe(true);
		expect(await resendDelivery(app, admin, first!.id, meta)).toBe(false);
		await run.runOnce();
		expect(receivedFor(member.id).map((event) => event.id)).toEqual([first!.id]);
		const resent = await database.db
			.selectFrom('audit_events')
			.select(['actor_id', 'subject_id'])
			.where('action', '=', 'webhook.resent')
			.execute();
		expect(resent).toEqual([{ actor_id: admin.id, subject_id: member.id }]);
		expect(RETRY_WINDOW_MS).toBe(24 * HOUR);
	});

	it('R27: a change that rolls back makes no event', async () => {
		const member = await insertMember(app, 'hook-rollback');
		const entry = {
			actorKind: 'account' as const,
			actorId: member.id,
			action: 'account.frozen',
			subjectKind: 'account',
			subjectId: member.id,
			details: { by: 'owner' }
		};
		await expect(
			app.db.transaction().execute(async (trx) => {
				await audit({ ...app, db: trx }, entry);
				throw new Error('rolled back');
			})
		).rejects.toThrow('rolled back');
		expect(await deliveries(member.id)).toHaveLength(0);
		await app.db.transaction().execute((trx) => audit({ ...app, db: trx }, entry));
		expect(await deliveries(member.id)).toHaveLength(1);
	});

	it('R27: without WEBHOOK_URL nothing is stored', async () => {
		const quiet = testAppContext(database);
		const member = await insertMember(quiet, 'hook-off');
		await freezeOwnAccount(quiet, await accountRow(member.id), PASSWORD, meta);
		expect(await deliveries(member.id)).toHaveLength(0);
	});

	it(`R27: two instances on one ${name} database deliver each event exactly once, in order`, async () => {
		const handle = name === 'postgres' ? openDatabase(database.target) : null;
		const second = handle
			? testAppContext(
					{ ...handle, target: database.target, dispose: () => handle.close() },
					{ env }
				)
			: testAppContext(database, { env });
		second.clock.set(app.clock.now());
		try {
			const members = await Promise.all(
				[1, 2, 3].map((index) => insertMember(app, `hook-twice-${index}`))
			);
			for (const member of members) {
				await freezeOwnAccount(app, await accountRow(member.id), PASSWORD, meta);
				await agentLiftFreeze(second, admin, member.id, 'yes', { ip: '10.0.0.1' });
			}
			const [one, two] = [worker(app), worker(second)];
			await Promise.all([one.runOnce(), two.runOnce(), one.runOnce(), two.runOnce()]);
			for (const member of members) {
				const got = receivedFor(member.id);
				expect(got.map((event) => event.type)).toEqual(['account.frozen', 'account.unfrozen']);
				expect(new Set(got.map((event) => event.id)).size).toBe(2);
			}
		} finally {
			await handle?.close();
		}
	});

	it('R27: a contact change tells only masked contacts', async () => {
		const member = await insertMember(app, 'hook-contact');
		const next = uniqueEmail('hook-contact-new');
		const { rebindContact } = await import('../../src/lib/server/contact-change');
		await app.db.transaction().execute((trx) =>
			rebindContact(
				{ ...app, db: trx },
				{
					accountId: member.id,
					next: { kind: 'email', value: next },
					kind: 'owner',
					actor: { actorKind: 'account', actorId: member.id }
				}
			)
		);
		await worker(app).runOnce();
		const [event] = receivedFor(member.id);
		expect(event!.type).toBe('account.contact_changed');
		for (const whole of [member.email, next]) {
			expect(event!.body).not.toContain(whole);
			expect(event!.body).not.toContain(whole.split('@')[0]!);
		}
		expect(event!.json.data.to).toMatch(/\*/);
	});

	it('R27 + R22: the console page lists failures first; only an admin resends, through the page action', async () => {
		const member = await insertMember(app, 'hook-console');
		await freezeOwnAccount(app, await accountRow(member.id), PASSWORD, meta);
		const [row] = await deliveries(member.id);
		await database.db
			.updateTable('webhook_deliveries')
			.set({ status: 'failed', attempts: 30, last_error: 'HTTP 503' })
			.where('id', '=', row!.id)
			.execute();
		const [adminAgent, plainAgent] = [await makeAgent(app, 'admin'), await makeAgent(app, 'agent')];
		const asAgent =
			<E extends { locals: App.Locals }, R>(agent: typeof adminAgent, handler: (event: E) => R) =>
			(event: E) => {
				event.locals.agent = agent;
				return handler(event);
			};
		const page = (await callEndpoint(asAgent(adminAgent, load), app, {
			method: 'GET',
			path: '/support/webhooks'
		})) as Exclude<Awaited<ReturnType<typeof load>>, void>;
		expect(page.deliveries[0]).toMatchObject({ status: 'failed', lastError: 'HTTP 503' });
		expect(JSON.stringify(page)).not.toContain('"body"');

		const post = (agent: typeof adminAgent) =>
			callEndpoint(asAgent(agent, actions.resend!), app, {
				path: '/support/webhooks?/resend',
				body: new URLSearchParams({ id: row!.id }),
				headers: { 'content-type': 'application/x-www-form-urlencoded' }
			});
		await expect(post(plainAgent)).rejects.toMatchObject({ status: 403 });
		expect((await deliveries(member.id))[0]!.status).toBe('failed');
		expect(await post(adminAgent)).toEqual({ resent: row!.id });
		expect((await deliveries(member.id))[0]!.status).toBe('pending');
		expect(await post(adminAgent)).toMatchObject({ status: 409 });
		await worker(app).runOnce();
		expect(receivedFor(member.id).map((event) => event.id)).toEqual([row!.id]);
	});

	it('R27 retention: delivered and failed deliveries go 30 days after the event; pending ones stay', async () => {
		const member = await insertMember(app, 'hook-retention');
		const now = app.clock.now().getTime();
		const row = (id: string, status: 'pending' | 'delivered' | 'failed', ageDays: number) => ({
			id,
			endpoint: env.WEBHOOK_URL!,
			account_id: member.id,
			type: 'account.frozen',
			body: '{}',
			created_at: now - ageDays * 24 * HOUR,
			status,
			next_attempt_at: now + HOUR
		});
		await database.db
			.insertInto('webhook_deliveries')
			.values([
				row(`msg_old_delivered_${member.id}`, 'delivered', 31),
				row(`msg_old_failed_${member.id}`, 'failed', 31),
				row(`msg_recent_failed_${member.id}`, 'failed', 29),
				row(`msg_old_pending_${member.id}`, 'pending', 31)
			])
			.execute();
		const result = await runRetention(app);
		expect(result).toMatchObject({ skipped: false, failed: [] });
		expect((await deliveries(member.id)).map((kept) => kept.id).sort()).toEqual(
			[`msg_old_pending_${member.id}`, `msg_recent_failed_${member.id}`].sort()
		);
	});
});
