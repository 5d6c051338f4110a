import type { RequestEvent } from '@sveltejs/kit';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as healthz } from '../../src/routes/healthz/+server';
import { GET as readyz } from '../../src/routes/readyz/+server';
import { GET as metrics } from '../../src/routes/metrics/+server';
import { POST as benchNoop } from '../../src/routes/api/bench/noop/+server';
import {
	actions as benchActions,
	load as benchLoad
} from '../../src/routes/bench/bare/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';

const TOKEN = 'metrics-token-for-tests-0123456789abcdef';
const MINUTE = 60_000;

/** The value of one sample in Prometheus text, e.g. `asc_checks_recorded{outcome="registered"}`; 0 when absent. */
function sample(text: string, series: string): number {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.each(testDatabases)('health, readiness and metrics on $name', ({ name, open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { METRICS_TOKEN: TOKEN } });
	});
	afterAll(() => database.dispose());

	const scrape = (
		headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
		context = app
	) => callEndpoint(metrics, context, { method: 'GET', path: '/metrics', headers });
	const metricsText = async () => {
		const res = await scrape();
		expect(res.status).toBe(200);
		return res.text();
	};

	it('GET /healthz answers 200 {status:"ok"}, uncached, without asking the database', async () => {
		const closed = await open();
		await closed.close();
		const res = await callEndpoint(healthz, testAppContext(closed), {
			method: 'GET',
			path: '/healthz'
		});
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(await res.json()).toEqual({ status: 'ok' });
		await closed.dispose();
	});

	it('GET /readyz answers 200 when the database answers and every migration is applied', async () => {
		const res = await callEndpoint(readyz, app, { method: 'GET', path: '/readyz' });
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(await res.json()).toEqual({ status: 'ok' });
	});

	it('GET /readyz answers 503 naming the migration that is not applied yet', async () => {
		const behind = await open();
		try {
			await behind.db
				.deleteFrom('kysely_migration' as never)
				.where('name' as never, '=', '0003-appeal-console' as never)
				.execute();
			const res = await callEndpoint(readyz, testAppContext(behind), {
				method: 'GET',
				path: '/readyz'
			});
			expect(res.status).toBe(503);
			expect(res.headers.get('cache-control')).toBe('no-store');
			expect(await res.json()).toEqual({
				status: 'unavailable',
				reason: 'migrations_pending',
				pendingMigrations: ['0003-appeal-console']
			});
		} finally {
			await behind.dispose();
		}
	});

	it('GET /readyz answers 503 database_unreachable once the database is closed', async () => {
		const closed = await open();
		await closed.close();
		const res = await callEndpoint(readyz, testAppContext(closed), {
			method: 'GET',
			path: '/readyz'
		});
		expect(res.status).toBe(503);
		expect(await res.json()).toEqual({ status: 'unavailable', reason: 'database_unreachable' });
		await closed.dispose();
	});

	// Only PostgreSQL has a lock another session can hold for seconds; on SQLite there is no such test.
	if (name === 'postgres')
		it('GET /readyz gives up after ~2 s with 503 when the database hangs (a lock held elsewhere)', async () => {
			const target = database.target;
			if (target.kind !== 'postgres') throw new Error('postgres only');
			const blocker = new pg.Client({
				connectionString: target.url,
				options: `-c search_path=${target.schema}`
			});
			await blocker.connect();
			try {
				await blocker.query('begin');
				await blocker.query('lock table kysely_migration in access exclusive mode');
				const started = performance.now();
				const res = await callEndpoint(readyz, app, { method: 'GET', path: '/readyz' });
				const tookMs = performance.now() - started;
				expect(res.status).toBe(503);
				expect(await res.json()).toEqual({ status: 'unavailable', reason: 'database_timeout' });
				expect(tookMs).toBeGreaterThanOrEqual(1_900);
				expect(tookMs).toBeLessThan(3_000);
			} finally {
				await blocker.query('rollback');
				await blocker.end();
			}
		});

	it('GET /metrics is absent (404) while METRICS_TOKEN is unset', async () => {
		await expect(
			scrape({ authorization: `Bearer ${TOKEN}` }, testAppContext(database))
		).rejects.toMatchObject({ status: 404 });
	});

	it('GET /metrics refuses a missing or wrong bearer token with 401', async () => {
		expect((await scrape({})).status).toBe(401);
		const wrong = await scrape({ authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
		expect(wrong.status).toBe(401);
		expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
		expect((await scrape({ authorization: TOKEN })).status).toBe(401);
	});

	it('GET /metrics with the token serves Prometheus text, uncached, with every family', async () => {
		const res = await scrape();
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
		expect(res.headers.get('cache-control')).toBe('no-store');
		const text = await res.text();
		for (const family of [
			'asc_checks_total',
			'asc_checks_recorded',
			'asc_verification_codes_issued',
			'asc_verification_codes_expired_unused',
			'asc_outbox_messages',
			'asc_outbox_delivery_failures',
			'asc_appeals_open',
			'asc_appeals_overdue',
			'asc_rate_limit_active_keys',
			'process_resident_memory_bytes',
			'process_uptime_seconds'
		]) {
			expect(text).toContain(`# TYPE ${family} `);
		}
		expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
	});

	it("R15: a check recorded in the database moves asc_checks_recorded for its outcome, not this instance's asc_checks_total", async () => {
		const before = await metricsText();
		await database.db
			.insertInto('check_events')
			.values({
				at: app.clock.now().getTime(),
				ip_key: 'k-ip',
				identifier_key: 'k-id',
				outcome: 'registered'
			})
			.execute();
		const after = await metricsText();
		expect(sample(after, 'asc_checks_recorded{outcome="registered"}')).toBe(
			sample(before, 'asc_checks_recorded{outcome="registered"}') + 1
		);
		// Another instance wrote that row: only the process that records a check counts it.
		expect(sample(after, 'asc_checks_total{outcome="registered"}')).toBe(
			sample(before, 'asc_checks_total{outcome="registered"}')
		);
	});

	it('R6: a code counts as pending, then as expired unused once the clock passes its 5 minutes, then as confirmed', async () => {
		const local = testAppContext(database, { env: { METRICS_TOKEN: TOKEN } });
		const now = local.clock.now().getTime();
		const id = randomUUID();
		await database.db
			.insertInto('verification_codes')
			.values({
				id,
				purpose: 'password_reset',
				identifier: `metrics.${id}@example.com`,
				code_hash: 'ab',
				created_at: now,
				expires_at: now + 5 * MINUTE,
				consumed_at: null,
				account_id: null,
				payload: null
			})
			.execute();
		const read = async () => {
			const text = await (await scrape(undefined, local)).text();
			return ['pending', 'expired_unused', 'confirmed'].map((k) =>
				sample(text, `asc_verification_codes_${k}{purpose="password_reset"}`)
			);
		};
		const [pending, expired, confirmed] = await read();
		local.clock.advance(5 * MINUTE + 1);
		expect(await read()).toEqual([pending! - 1, expired! + 1, confirmed]);
		await database.db
			.updateTable('verification_codes')
			.set({ consumed_at: now + MINUTE })
			.where('id', '=', id)
			.execute();
		expect(await read()).toEqual([pending! - 1, expired, confirmed! + 1]);
	});

	it('R20: an open appeal past its due time counts as overdue; outbox backlog and failures by status', async () => {
		const now = app.clock.now().getTime();
		const before = await metricsText();
		const id = randomUUID();
		await database.db
			.insertInto('appeals')
			.values({
				id,
				reference: id.slice(0, 8).toUpperCase(),
				status_token_hash: 'x',
				account_id: null,
				old_identifier: 'a@example.com',
				new_identifier: 'b@example.com',
				description: 'lost phone',
				status: 'in_review',
				locale: 'en',
				created_at: now - 50 * 3_600_000,
				due_at: now - 2 * 3_600_000,
				updated_at: now,
				assigned_agent_id: null,
				decided_at: null,
				decided_by: null,
				decision_reason: null
			})
			.execute();
		await database.db
			.insertInto('outbox')
			.values({
				id: randomUUID(),
				channel: 'sms',
				recipient: '+8613800138000',
				purpose: 'check',
				locale: 'en',
				payload: null,
				status: 'pending',
				attempts: 3,
				next_attempt_at: now,
				locked_until: null,
				last_error: 'gateway 503',
				created_at: now,
				sent_at: null
			})
			.execute();
		const after = await metricsText();
		expect(sample(after, 'asc_appeals_overdue')).toBe(sample(before, 'asc_appeals_overdue') + 1);
		expect(sample(after, 'asc_appeals_open{status="in_review"}')).toBe(
			sample(before, 'asc_appeals_open{status="in_review"}') + 1
		);
		expect(sample(after, 'asc_outbox_messages{status="pending"}')).toBe(
			sample(before, 'asc_outbox_messages{status="pending"}') + 1
		);
		expect(sample(after, 'asc_outbox_delivery_failures{status="pending"}')).toBe(
			sample(before, 'asc_outbox_delivery_failures{status="pending"}') + 3
		);
		expect(sample(after, 'asc_outbox_messages_with_error{status="pending"}')).toBe(
			sample(before, 'asc_outbox_messages_with_error{status="pending"}') + 1
		);
	});

	it('R4/R15: rate-limit keys are reported by prefix only, never with the keyed hash or the recipient', async () => {
		const now = app.clock.now().getTime();
		const secret = `hmacsecret${randomUUID().replace(/-/g, '')}`;
		await database.db
			.insertInto('rate_limits')
			.values([
				{ key: `check:ip:${secret}`, points: 1_000, reset_at: now + MINUTE },
				{ key: `signin-block:id:${secret}`, points: 1, reset_at: now + MINUTE },
				{ key: `check:id:${secret}old`, points: 1, reset_at: now - 1 }
			])
			.execute();
		const text = await metricsText();
		expect(sample(text, 'asc_rate_limit_active_keys{prefix="check"}')).toBeGreaterThanOrEqual(1);
		expect(
			sample(text, 'asc_rate_limit_active_keys{prefix="signin-block"}')
		).toBeGreaterThanOrEqual(1);
		expect(sample(text, 'asc_check_rate_limit_exhausted_keys{scope="ip"}')).toBeGreaterThanOrEqual(
			1
		);
		expect(text).not.toContain(secret);
		expect(text).not.toContain('+8613800138000');
		expect(text).not.toMatch(/@/);
	});
});

describe('bench routes (npm run bench only)', () => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await testDatabases[0]!.open();
	});
	afterAll(() => database.dispose());

	const pageEvent = (app: ReturnType<typeof testAppContext>, body?: URLSearchParams) =>
		({
			locals: { app },
			request: new Request('http://127.0.0.1/bench/bare?/echo', { method: 'POST', body })
		}) as unknown as RequestEvent & Parameters<typeof benchLoad>[0];

	it('are 404 without BENCH_ROUTES=1: the noop endpoint, the bare page and its action', async () => {
		const app = testAppContext(database);
		await expect(callEndpoint(benchNoop, app, { json: {} })).rejects.toMatchObject({ status: 404 });
		await expect(Promise.resolve().then(() => benchLoad(pageEvent(app)))).rejects.toMatchObject({
			status: 404
		});
		await expect(
			Promise.resolve().then(() =>
				benchActions.echo!(pageEvent(app, new URLSearchParams({ text: 'hi' })))
			)
		).rejects.toMatchObject({ status: 404 });
	});

	it('answer with BENCH_ROUTES=1: noop is {ok:true}, the bare action echoes its field', async () => {
		const app = testAppContext(database, { env: { BENCH_ROUTES: '1' } });
		const res = await callEndpoint(benchNoop, app, { json: {} });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ ok: true });
		expect(
			await benchActions.echo!(pageEvent(app, new URLSearchParams({ text: 'hello' })))
		).toEqual({ echo: 'hello' });
	});
});
