import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentSession } from '../../src/lib/server/support/agent-sessions';
import { audit } from '../../src/lib/server/core/audit';
import { runCheck } from '../../src/lib/server/check/run';
import type { Database } from '../../src/lib/server/db/schema';
import { countAccountsOnDevice, recordDevice } from '../../src/lib/server/accounts/devices';
import { collectMetrics } from '../../src/lib/server/platform/metrics';
import { blockUntil, hit } from '../../src/lib/server/platform/limits';
import {
	ADVISORY_LOCK_CLASS,
	rollUpCheckEvents,
	runRetention,
	startRetention
} from '../../src/lib/server/retention/tables';
import { createSession, validateSessionToken } from '../../src/lib/server/accounts/sessions';
import { consumeCode, issueCode } from '../../src/lib/server/messaging/codes';
import { makeAgent } from '../support/agents';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { insertAccount, uniqueEmail } from '../support/factories';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** "Now" when retention runs: half past an hour, so the current hour is not complete yet. */
const T = Date.parse('2027-06-01T12:30:00Z');
const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;

type Row = Record<string, unknown>;
/** Every table retention may shrink, with its key column. */
const TABLES = {
	rate_limits: 'key',
	check_events: 'id',
	sessions: 'id',
	agent_sessions: 'id',
	verification_codes: 'id',
	outbox: 'id',
	devices: 'id',
	account_devices: 'device_id',
	secure_account_tokens: 'id',
	contact_changes: 'id',
	appeals: 'id',
	appeal_messages: 'id',
	appeal_documents: 'id',
	audit_events: 'id',
	accounts: 'id',
	agents: 'id'
} as const satisfies Partial<Record<keyof Database, string>>;
type Table = keyof typeof TABLES;
type Snapshot = Record<Table, Row[]>;

/**
 * The policies of docs/DATA.md, written out again independently of retention.ts: the rows of a
 * snapshot taken before the run that must still be there after it at instant T.
 */
function survivors(before: Snapshot): Record<Table, Row[]> {
	const n = (v: unknown) => Number(v);
	const appealsGone = new Set(
		before.appeals
			.filter(
				(a) =>
					(a.status === 'approved' || a.status === 'rejected') &&
					a.decided_at !== null &&
					n(a.decided_at) < T - 730 * DAY
			)
			.filter((a) =>
				before.appeal_documents.every((d) => d.appeal_id !== a.id || d.deleted_at !== null)
			)
			.map((a) => a.id)
	);
	const referenced = new Set(before.accounts.map((a) => a.reg_device_id));
	return {
		rate_limits: before.rate_limits.filter((r) => n(r.reset_at) > T),
		check_events: before.check_events.filter((r) => n(r.at) >= floorHour(T - 30 * DAY)),
		sessions: before.sessions.filter((s) => n(s.expires_at) > T && n(s.last_active_at) > T - DAY),
		agent_sessions: before.agent_sessions.filter(
			(s) => n(s.expires_at) > T && n(s.last_active_at) > T - 30 * MINUTE
		),
		verification_codes: before.verification_codes.filter(
			(c) => n(c.expires_at) >= T - DAY && (c.consumed_at === null || n(c.consumed_at) >= T - DAY)
		),
		outbox: before.outbox.filter(
			(m) =>
				!(
					(m.status === 'sent' && n(m.sent_at) < T - 7 * DAY) ||
					(m.status === 'dead' && n(m.next_attempt_at) < T - 7 * DAY)
				)
		),
		devices: before.devices.filter(
			(d) => n(d.last_seen_at) >= T - 400 * DAY || referenced.has(d.id)
		),
		// §7a: a device unseen 400 days is forgotten (its next sign-in alerts again).
		account_devices: before.account_devices.filter((d) => n(d.last_seen_at) >= T - 400 * DAY),
		// "This wasn't me" links: a day past their expiry, used or not.
		secure_account_tokens: before.secure_account_tokens.filter((t) => n(t.expires_at) >= T - DAY),
		contact_changes: before.contact_changes.filter((c) => n(c.changed_at) >= T - 730 * DAY),
		appeals: before.appeals.filter((a) => !appealsGone.has(a.id)),
		appeal_messages: before.appeal_messages.filter((m) => !appealsGone.has(m.appeal_id)),
		appeal_documents: before.appeal_documents.filter((d) => !appealsGone.has(d.appeal_id)),
		// R22: append-only, never deleted.
		audit_events: before.audit_events,
		accounts: before.accounts,
		agents: before.agents
	};
}

/** Checks per completed hour and outcome, counted from raw events as the roll-up must count them. */
function hourlyCounts(
	events: Row[],
	until: number
): { hour_start: number; outcome: string; count: number }[] {
	const counts = new Map<string, number>();
	for (const e of events) {
		const hour = floorHour(Number(e.at));
		if (hour >= until) continue;
		const key = `${hour}|${String(e.outcome)}`;
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	return [...counts]
		.map(([key, count]) => ({
			hour_start: Number(key.split('|')[0]),
			outcome: key.split('|')[1]!,
			count
		}))
		.sort((a, b) => a.hour_start - b.hour_start || a.outcome.localeCompare(b.outcome));
}

/** The value of one sample in Prometheus text; 0 when absent. */
function sample(text: string, series: string): number {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.each(testDatabases)('retention on $name', ({ name, open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeEach(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	});
	afterEach(() => database.dispose());

	const db = () => database.db;
	/** Runs `fn` with the clock at T - `ago`. */
	async function at<R>(ago: number, fn: () => Promise<R>): Promise<R> {
		app.clock.set(new Date(T - ago));
		return fn();
	}
	const viewer = {
		requestCountry: null,
		deviceId: 'device-of-the-checker',
		address: '1.0.1.1',
		proven: () => false
	};
	const check = (identifier: string) => runCheck(app, { identifier }, viewer);
	const codeDeps = () => app;

	async function snapshot(): Promise<Snapshot> {
		const entries = await Promise.all(
			(Object.keys(TABLES) as Table[]).map(
				async (table) =>
					[table, (await db().selectFrom(table).selectAll().execute()) as Row[]] as const
			)
		);
		return Object.fromEntries(entries) as Snapshot;
	}
	const keysOf = (table: Table, rows: Row[]) => rows.map((r) => String(r[TABLES[table]])).sort();
	const hours = () =>
		db()
			.selectFrom('check_event_hours')
			.select(['hour_start', 'outcome', 'count'])
			.orderBy('hour_start')
			.orderBy('outcome')
			.execute();

	async function insertAppeal(
		status: Database['appeals']['status'],
		createdAgo: number,
		decidedAgo: number | null,
		docDeleted: boolean | null
	) {
		const id = randomUUID();
		const created = T - createdAgo;
		await db()
			.insertInto('appeals')
			.values({
				id,
				reference: id.slice(0, 8).toUpperCase(),
				status_token_hash: 'x',
				account_id: null,
				old_identifier: uniqueEmail('old'),
				new_identifier: uniqueEmail('new'),
				description: 'lost my phone',
				status,
				locale: 'en',
				created_at: created,
				due_at: created + 48 * HOUR,
				updated_at: created,
				assigned_agent_id: null,
				decided_at: decidedAgo === null ? null : T - decidedAgo,
				decided_by: null,
				decision_reason: null,
				claimed_at: null,
				first_approval_by: null,
				first_approval_at: null
			})
			.execute();
		await db()
			.insertInto('appeal_messages')
			.values([
				{
					id: randomUUID(),
					appeal_id: id,
					author_kind: 'agent',
					author_id: null,
					body: 'Please send a clearer photo.',
					created_at: created + HOUR
				},
				{
					id: randomUUID(),
					appeal_id: id,
					author_kind: 'appellant',
					author_id: null,
					body: 'Here it is.',
					created_at: created + 2 * HOUR
				}
			])
			.execute();
		if (docDeleted !== null) {
			await db()
				.insertInto('appeal_documents')
				.values({
					id: randomUUID(),
					appeal_id: id,
					storage_key: randomUUID(),
					content_type: 'image/png',
					byte_size: 1000,
					sha256: 'ab',
					created_at: created,
					deleted_at: docDeleted ? created + 31 * DAY : null
				})
				.execute();
		}
		return id;
	}

	async function insertOutbox(status: 'pending' | 'sent' | 'dead', ago: number) {
		const when = T - ago;
		await db()
			.insertInto('outbox')
			.values({
				id: randomUUID(),
				channel: 'email',
				recipient: uniqueEmail(),
				purpose: 'check',
				locale: 'en',
				payload: null,
				status,
				attempts: status === 'dead' ? 40 : 1,
				next_attempt_at: when,
				locked_until: null,
				last_error: status === 'dead' ? 'gateway 503' : null,
				created_at: when - MINUTE,
				sent_at: status === 'sent' ? when : null
			})
			.execute();
	}

	/** Old and fresh rows in every table, made by the real services where they exist. */
	async function seed() {
		const known = uniqueEmail('known');
		const shared = 'device-with-two-accounts';
		await at(500 * DAY, async () => {
			await recordDevice(app, 'device-old-alone');
			await recordDevice(app, shared);
		});
		await at(10 * DAY, () => recordDevice(app, 'device-recent-alone'));
		const owner = await insertAccount(db(), {
			email: known,
			reg_device_id: shared,
			created_at: T - 500 * DAY
		});
		await insertAccount(db(), {
			reg_device_id: shared,
			multiple_accounts_on_device: 1,
			created_at: T - 500 * DAY
		});

		// R15: checks counted at times that fall on each side of the 30-day and hour boundaries.
		for (const ago of [40 * DAY, 31 * DAY, 29 * DAY, 2 * DAY, 2 * HOUR, 50 * MINUTE, 9 * MINUTE]) {
			await at(ago, async () => {
				await check(known);
				await check(uniqueEmail('nobody'));
			});
		}
		await db()
			.insertInto('check_events')
			.values({ at: T - 3 * HOUR, ip_key: 'k-ip', identifier_key: '', outcome: 'rate_limited' })
			.execute();

		await at(2 * HOUR, () => hit(app, 'signin:id:stale', HOUR));
		await at(MINUTE, () => blockUntil(app, 'signin-block:id:held', T + HOUR));

		const meta = { ip: '1.0.1.1', ipCountry: 'AU', userAgent: 'test' };
		const session = (ago: number) =>
			at(ago, () => createSession(app, `token-${randomUUID()}`, owner.id, meta, 0));
		await session(15 * DAY);
		await session(2 * DAY);
		await session(HOUR);
		const kept = `token-${randomUUID()}`;
		await at(13 * DAY, () => createSession(app, kept, owner.id, meta, 0));
		for (let ago = 13 * DAY - 12 * HOUR; ago > 0; ago -= 12 * HOUR)
			await at(ago, () => validateSessionToken(app, kept));

		const agent = await at(10 * DAY, () => makeAgent(app));
		for (const ago of [9 * HOUR, 45 * MINUTE, 10 * MINUTE]) {
			await at(ago, () => createAgentSession(app, `agent-${randomUUID()}`, agent.id, '1.0.1.1'));
		}

		// R6/R13: codes unused, used, expired long ago and a moment ago.
		const issue = async (ago: number, consumeAfter?: number) => {
			const identifier = uniqueEmail('code');
			const issued = await at(ago, () => issueCode(codeDeps(), { purpose: 'check', identifier }));
			if (!issued.ok) throw new Error('cooldown');
			if (consumeAfter !== undefined) {
				const used = await at(ago - consumeAfter, () =>
					consumeCode(codeDeps(), { purpose: 'check', identifier, code: issued.code })
				);
				expect(used.ok).toBe(true);
			}
			return identifier;
		};
		await issue(2 * DAY);
		const expiredRecently = await issue(2 * HOUR);
		await issue(30 * HOUR, MINUTE);
		await issue(3 * HOUR, MINUTE);
		await issue(MINUTE);

		await insertOutbox('sent', 8 * DAY);
		await insertOutbox('sent', 6 * DAY);
		await insertOutbox('dead', 8 * DAY);
		await insertOutbox('dead', DAY);
		await insertOutbox('pending', 30 * DAY);

		for (const [i, ago] of [401 * DAY, 399 * DAY, HOUR].entries()) {
			await db()
				.insertInto('account_devices')
				.values({
					account_id: owner.id,
					device_id: `known-device-${i}`,
					first_seen_at: T - 500 * DAY,
					last_seen_at: T - ago
				})
				.execute();
		}
		for (const [i, ago] of [2 * DAY, DAY + HOUR, 20 * HOUR].entries()) {
			await db()
				.insertInto('secure_account_tokens')
				.values({
					id: `link-${i}-${randomUUID()}`,
					account_id: owner.id,
					created_at: T - ago - 7 * DAY,
					expires_at: T - ago,
					used_at: i === 1 ? T - ago - DAY : null
				})
				.execute();
		}
		for (const ago of [731 * DAY, 700 * DAY, 10 * DAY]) {
			await db()
				.insertInto('contact_changes')
				.values({
					id: randomUUID(),
					account_id: owner.id,
					kind: 'owner',
					old_identifier: uniqueEmail('was'),
					new_identifier: uniqueEmail('now'),
					changed_at: T - ago
				})
				.execute();
		}

		await insertAppeal('approved', 740 * DAY, 731 * DAY, true);
		await insertAppeal('rejected', 740 * DAY, 731 * DAY, false);
		await insertAppeal('approved', 110 * DAY, 100 * DAY, true);
		await insertAppeal('needs_info', 800 * DAY, null, null);

		await at(1000 * DAY, () =>
			audit(app, { actorKind: 'system', actorId: null, action: 'test.old' })
		);
		await at(DAY, () => audit(app, { actorKind: 'system', actorId: null, action: 'test.recent' }));

		app.clock.set(new Date(T));
		// R15: checks and the in-process counters are written behind: stored before the snapshot.
		await Promise.all([app.writeBehind.flush(), app.limits.flush()]);
		return { known, shared, expiredRecently };
	}

	it('with the clock moved forward, every table shrinks exactly to its policy (docs/DATA.md); the audit log is untouched', async () => {
		const { shared, expiredRecently } = await seed();
		const before = await snapshot();
		const expected = survivors(before);
		const result = await runRetention(app);

		expect(result.skipped).toBe(false);
		if (result.skipped) return;
		expect(result.failed).toEqual([]);
		const after = await snapshot();
		for (const table of Object.keys(TABLES) as Table[]) {
			expect({ table, keys: keysOf(table, after[table]) }).toEqual({
				table,
				keys: keysOf(table, expected[table])
			});
			const removed = before[table].length - expected[table].length;
			expect({
				table,
				removed: (result.removed as Partial<Record<Table, number>>)[table] ?? 0
			}).toEqual({ table, removed });
		}
		// The seed has old and fresh rows in each table retention shrinks.
		for (const table of [
			'rate_limits',
			'check_events',
			'sessions',
			'agent_sessions',
			'verification_codes',
			'outbox',
			'devices',
			'account_devices',
			'secure_account_tokens',
			'contact_changes',
			'appeals',
			'appeal_messages',
			'appeal_documents'
		] as const) {
			expect({
				table,
				removed: before[table].length > expected[table].length,
				kept: expected[table].length > 0
			}).toEqual({ table, removed: true, kept: true });
		}
		expect(after.audit_events.map((e) => e.action).sort()).toEqual(
			expect.arrayContaining(['test.old', 'test.recent'])
		);

		// R15: the completed hours are rolled up, the deleted raw events included.
		expect(await hours()).toEqual(hourlyCounts(before.check_events, floorHour(T - 5 * MINUTE)));
		expect(result.rolledUp).toBe((await hours()).length);

		// R10: the device two accounts came from still counts both.
		expect(await countAccountsOnDevice(app, shared)).toBe(2);
		// R13: a code that expired two hours ago is still reported as expired unused.
		const report = await check(expiredRecently);
		expect(report.ok && report.report.verification).toMatchObject({
			pending: false,
			expiredUnused: { purpose: 'check' }
		});
	});

	it('run twice at once (two instances), and again and again: nothing is counted twice', async () => {
		await seed();
		const events = await db().selectFrom('check_events').selectAll().execute();
		const results = await Promise.all([runRetention(app), runRetention(app)]);
		// PostgreSQL: whichever takes the advisory lock first runs, one that finds it held skips.
		expect(results.some((r) => !r.skipped)).toBe(true);
		const rolled = hourlyCounts(events, floorHour(T - 5 * MINUTE));
		expect(await hours()).toEqual(rolled);

		// The roll-up alone, without the lock, raced three times: insert-or-ignore keeps one count.
		await Promise.all([rollUpCheckEvents(app), rollUpCheckEvents(app), rollUpCheckEvents(app)]);
		expect(await hours()).toEqual(rolled);

		// An hour later the half hour that was current is complete and is added once.
		app.clock.set(new Date(T + HOUR));
		await Promise.all([runRetention(app), runRetention(app)]);
		expect(await hours()).toEqual(hourlyCounts(events, floorHour(T + HOUR - 5 * MINUTE)));
	});

	if (name === 'postgres')
		it('PostgreSQL: an instance that finds the run held elsewhere skips it and deletes nothing', async () => {
			const target = database.target;
			if (target.kind !== 'postgres') throw new Error('postgres only');
			await at(2 * HOUR, () => hit(app, 'signin:id:stale', HOUR));
			app.clock.set(new Date(T));
			const other = new pg.Client({ connectionString: target.url });
			await other.connect();
			try {
				const lock = `${ADVISORY_LOCK_CLASS}, hashtext('${target.schema}')`;
				expect(
					(await other.query(`select pg_try_advisory_lock(${lock}) as locked`)).rows[0].locked
				).toBe(true);
				expect(await runRetention(app)).toEqual({ skipped: true });
				expect(await db().selectFrom('rate_limits').select('key').execute()).toEqual([
					{ key: 'signin:id:stale' }
				]);
				await other.query(`select pg_advisory_unlock(${lock})`);
				expect(await runRetention(app)).toMatchObject({
					skipped: false,
					removed: { rate_limits: 1 }
				});
			} finally {
				await other.end();
			}
		});

	it('R15: metrics report the same check totals before and after retention, and count new checks', async () => {
		const { known } = await seed();
		const total = await db().selectFrom('check_events').select('outcome').execute();
		const byOutcome = (outcome: string) => total.filter((e) => e.outcome === outcome).length;
		const read = async () => {
			const text = await collectMetrics(app);
			return ['registered', 'unregistered', 'rate_limited'].map((o) =>
				sample(text, `asc_checks_recorded{outcome="${o}"}`)
			);
		};
		const expected = [
			byOutcome('registered'),
			byOutcome('unregistered'),
			byOutcome('rate_limited')
		];
		expect(await read()).toEqual(expected);
		await runRetention(app);
		expect(await read()).toEqual(expected);
		await check(known);
		// The scrape stores this instance's queued check first (check/events.ts).
		expect(await read()).toEqual([expected[0]! + 1, expected[1], expected[2]]);
		app.clock.set(new Date(T + 2 * HOUR));
		await runRetention(app);
		expect(await read()).toEqual([expected[0]! + 1, expected[1], expected[2]]);
	});

	it('startRetention runs on its own schedule until stopped', async () => {
		await at(2 * HOUR, () => hit(app, 'signin:id:first', HOUR));
		await app.limits.flush();
		app.clock.set(new Date(T));
		const job = startRetention(app, { firstRunMs: 0, intervalMs: 20 });
		try {
			await vi.waitFor(async () => {
				expect(await db().selectFrom('rate_limits').select('key').execute()).toEqual([]);
			});
		} finally {
			await job.stop();
		}
		await at(2 * HOUR, () => hit(app, 'signin:id:after-stop', HOUR));
		await app.limits.flush();
		app.clock.set(new Date(T));
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(await db().selectFrom('rate_limits').select('key').execute()).toEqual([
			{ key: 'signin:id:after-stop' }
		]);
	});
});
