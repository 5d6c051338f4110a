// `npm run bench:metrics [-- --events 1000000 --days 30 --runs 50 --postgres postgres://…]`:
// how long a /metrics scrape takes with that many check events stored (R15), on a throw-away
// SQLite file, and in a throw-away schema of the PostgreSQL database when --postgres is given.
// Events are spread evenly over the last --days days; retention then rolls up the completed
// hours, as the hourly job keeps it in production. A benchmark, not a test: it prints numbers.
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FixedClock } from '../src/lib/server/core/clock';
import { parseConfig } from '../src/lib/server/core/config';
import {
	openDatabase,
	type DatabaseHandle,
	type DatabaseTarget
} from '../src/lib/server/db/database';
import { migrateToLatest } from '../src/lib/server/db/migrate';
import { createAppContext } from '../src/lib/server/app';
import { collectMetrics } from '../src/lib/server/platform/metrics';
import { runRetention } from '../src/lib/server/retention/tables';
import { testKeyring } from '../src/lib/server/core/keys';

function option(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const EVENTS = Number(option('events', '1000000'));
const DAYS = Number(option('days', '30'));
const RUNS = Number(option('runs', '50'));
const POSTGRES = option('postgres', '');
const NOW = Date.parse('2026-11-26T12:30:00Z');
const SPAN_MS = DAYS * 86_400_000;

const ms = (started: number) => performance.now() - started;
const quantile = (sorted: number[], q: number) =>
	sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** EVENTS rows in one statement, `at` evenly spread over the span ending at NOW. */
async function fill(handle: DatabaseHandle): Promise<void> {
	const at = sql`${sql.lit(NOW - SPAN_MS)} + (i * ${sql.lit(SPAN_MS)}) / ${sql.lit(EVENTS)}`;
	const outcome = sql`case i % 4 when 0 then 'registered' when 1 then 'unregistered' when 2 then 'hidden' else 'rate_limited' end`;
	if (handle.dialect === 'postgres') {
		await sql`insert into check_events (at, ip_key, identifier_key, outcome)
			select ${at}, md5((i % 5000)::text), md5(i::text), ${outcome} from generate_series(0, ${EVENTS - 1}) as s(i)`.execute(
			handle.db
		);
		await sql`analyze check_events`.execute(handle.db);
	} else {
		await sql`with recursive s(i) as (select 0 union all select i + 1 from s where i < ${EVENTS - 1})
			insert into check_events (at, ip_key, identifier_key, outcome)
			select cast(${at} as integer), hex(i % 5000), hex(i), ${outcome} from s`.execute(handle.db);
		await sql`analyze`.execute(handle.db);
	}
}

async function scrapes(
	app: Parameters<typeof collectMetrics>[0],
	runs: number
): Promise<{ median: number; p95: number; max: number }> {
	const times: number[] = [];
	for (let i = 0; i < runs; i += 1) {
		const started = performance.now();
		await collectMetrics(app);
		times.push(ms(started));
	}
	times.sort((a, b) => a - b);
	return {
		median: quantile(times, 0.5),
		p95: quantile(times, 0.95),
		max: times[times.length - 1]!
	};
}

async function bench(
	name: string,
	target: DatabaseTarget,
	dispose: () => Promise<void>
): Promise<void> {
	const handle = openDatabase(target);
	try {
		await migrateToLatest(handle, { keys: testKeyring() });
		const app = {
			...createAppContext(parseConfig({ NODE_ENV: 'test' }), {
				database: handle,
				keys: testKeyring()
			}),
			clock: new FixedClock(new Date(NOW))
		};
		let started = performance.now();
		await fill(handle);
		const fillMs = ms(started);

		started = performance.now();
		await sql`select outcome, count(*) from check_events group by outcome`.execute(handle.db);
		const fullScanMs = ms(started);
		const cold = await scrapes(app, 3);

		started = performance.now();
		const result = await runRetention(app);
		const retentionMs = ms(started);
		const stored = await handle.db
			.selectFrom('check_events')
			.select((eb) => eb.fn.countAll<number | string>().as('n'))
			.executeTakeFirstOrThrow();
		const warm = await scrapes(app, RUNS);

		// The steady state: an hour later the job drops one hour of raw events and rolls up one.
		app.clock.advance(3_600_000);
		started = performance.now();
		const hourly = await runRetention(app);
		const hourlyMs = ms(started);

		const f = (v: number) => `${v.toFixed(1)} ms`;
		console.log(
			`\n${name}: ${EVENTS.toLocaleString('en')} check events over ${DAYS} days (filled in ${(fillMs / 1000).toFixed(1)} s)`
		);
		console.log(`  count(*) over all check_events (the old metrics query): ${f(fullScanMs)}`);
		console.log(`  /metrics before any roll-up (median of 3):              ${f(cold.median)}`);
		console.log(
			`  first retention run (rolls up ${result.skipped ? '?' : result.rolledUp} hour rows, removes ${result.skipped ? '?' : result.removed.check_events} raw events): ${f(retentionMs)}`
		);
		console.log(
			`  /metrics after retention, ${RUNS} scrapes: median ${f(warm.median)}, p95 ${f(warm.p95)}, max ${f(warm.max)}`
		);
		console.log(`  raw events still stored: ${Number(stored.n).toLocaleString('en')}`);
		console.log(
			`  the next hourly run (removes ${hourly.skipped ? '?' : hourly.removed.check_events} raw events): ${f(hourlyMs)}`
		);
		const last = await handle.db
			.selectFrom('check_event_hours')
			.select((eb) => eb.fn.max<number | null>('hour_start').as('h'))
			.executeTakeFirstOrThrow();
		const boundary = Number(last.h ?? -3_600_000) + 3_600_000;
		const plan = await sql<
			Record<string, string>
		>`${sql.raw(handle.dialect === 'sqlite' ? 'explain query plan' : 'explain')} select outcome, count(*) from check_events where at >= ${boundary} group by outcome`.execute(
			handle.db
		);
		const lines = plan.rows
			.map((r) => r['QUERY PLAN'] ?? r.detail ?? Object.values(r).join(' '))
			.map((l) => l.trim());
		console.log(`  plan of the raw range: ${lines.join(' / ')}`);
	} finally {
		await handle.close();
		await dispose();
	}
}

const dir = mkdtempSync(join(tmpdir(), 'asc-bench-metrics-'));
await bench('SQLite', { kind: 'sqlite', path: join(dir, 'bench.db') }, async () =>
	rmSync(dir, { recursive: true, force: true })
);

if (POSTGRES) {
	const schema = `bench_metrics_${randomBytes(4).toString('hex')}`;
	const admin = new pg.Client({ connectionString: POSTGRES });
	await admin.connect();
	await admin.query(`create schema ${schema}`);
	await bench('PostgreSQL', { kind: 'postgres', url: POSTGRES, schema }, async () => {
		await admin.query(`drop schema ${schema} cascade`);
		await admin.end();
	});
}
