import { Counter, Gauge, Registry } from 'prom-client';
import type { Ctx } from '../core/context';

/**
 * Prometheus metrics of one process (one `Ctx`), exposed with prom-client on its own `Registry`
 * (never prom-client's global one: several contexts live in one test process).
 *
 * Two kinds, so that a dashboard that SUMS instances tells the truth:
 * - per-process counters and gauges (`asc_checks_total`, memory, uptime): each instance counts
 *   only what it did itself, so the sum over instances is the whole;
 * - database gauges (`asc_checks_recorded`, queues, backlogs, …): read from the shared database
 *   at scrape time, so they are the same on every instance: aggregate them with max, not sum.
 *
 * The database gauges read domain tables, so this floor only holds them: whoever owns a table
 * registers its gauges with `sharedGauge` and its reader with `addGaugeReader` (the composition
 * root does, src/lib/server/gauges.ts); `collectMetrics` runs every reader at scrape time.
 *
 * Labels are fixed vocabularies (outcomes, statuses, purposes, key prefixes): never an
 * identifier, code or token (R4).
 */
export interface Metrics {
	registry: Registry;
	/** Per process: checks this instance recorded, by outcome. Incremented by `countCheck`. */
	checks: Counter<'outcome'>;
	/** Per process: R5 breached-password look-ups, by outcome (`unavailable`: failed open). */
	breachedPasswordChecks: Counter<'outcome'>;
	/** Per process: batches written behind (check events, in-process rate limits) that failed. */
	writeBehindFailures: Counter<'table'>;
	/** What reads the database gauges at scrape time (`addGaugeReader`). */
	readers: GaugeReader[];
}

/**
 * Reads database gauges at scrape time and returns what sets them: `collectMetrics` sets every
 * family only once every reader has answered, so a concurrent scrape never sees a half-set one.
 */
export type GaugeReader = (ctx: Ctx) => Promise<() => void>;

/** The outcomes `check_events` records (run.ts); their counters start at 0 so every series exists. */
const CHECK_OUTCOMES = ['registered', 'unregistered', 'hidden', 'rate_limited'] as const;

// Only a known-safe shape leaves as a label; anything else is folded into "other" (R4).
const SAFE_LABEL = /^[a-z][a-z0-9_-]{0,40}$/;
const safe = (value: string | null | undefined) =>
	value && SAFE_LABEL.test(value) ? value : 'other';

const SHARED =
	'Read from the shared database: the same on every instance, aggregate with max, not sum.';

/** A fresh registry with every metric of this app; built once per context (`createAppContext`). */
export function createMetrics(): Metrics {
	const registry = new Registry();
	const registers = [registry];

	const checks = new Counter<'outcome'>({
		name: 'asc_checks_total',
		help: 'Security checks this instance recorded since it started, by outcome (R15). Per instance: sum over instances for the total.',
		labelNames: ['outcome'],
		registers
	});
	for (const outcome of CHECK_OUTCOMES) checks.inc({ outcome }, 0);
	const breachedPasswordChecks = new Counter<'outcome'>({
		name: 'asc_breached_password_checks_total',
		help: 'R5: new passwords looked up in the breached-password range API by this instance, by outcome (breached, clean, unavailable: the service failed and the password was accepted). Per instance: sum over instances for the total.',
		labelNames: ['outcome'],
		registers
	});
	for (const outcome of ['breached', 'clean', 'unavailable'])
		breachedPasswordChecks.inc({ outcome }, 0);
	const writeBehindFailures = new Counter<'table'>({
		name: 'asc_write_behind_failures_total',
		help: 'Batches this instance wrote behind (check_events; rate_limits on SQLite) whose write failed; each is tried again. Per instance: sum over instances for the total.',
		labelNames: ['table'],
		registers
	});
	for (const table of ['check_events', 'rate_limits']) writeBehindFailures.inc({ table }, 0);

	const metrics: Metrics = {
		registry,
		checks,
		writeBehindFailures,
		breachedPasswordChecks,
		readers: []
	};

	// Per process, read when scraped; no timers or observers, so a context leaves nothing running.
	new Gauge({
		name: 'process_resident_memory_bytes',
		help: 'Resident set size of this instance.',
		registers,
		collect() {
			this.set(process.memoryUsage().rss);
		}
	});
	new Gauge({
		name: 'process_uptime_seconds',
		help: 'Seconds since this instance started.',
		registers,
		collect() {
			this.set(Math.round(process.uptime()));
		}
	});
	return metrics;
}

/**
 * R15: one check recorded by this process (call it where `check_events` gets its row). The
 * outcome is a label, so only a known-safe shape is kept (R4).
 */
export function countCheck(metrics: Metrics, outcome: string): void {
	metrics.checks.inc({ outcome: safe(outcome) });
}

/**
 * A gauge read from the shared database, registered with `metrics`; its help text says it is the
 * same on every instance.
 */
export function sharedGauge<L extends string>(
	metrics: Metrics,
	name: string,
	help: string,
	labelNames: readonly L[]
): Gauge<L> {
	return new Gauge<L>({
		name,
		help: `${help} ${SHARED}`,
		labelNames,
		registers: [metrics.registry]
	});
}

/** `read` runs at every scrape (`collectMetrics`), with the other readers. */
export function addGaugeReader(metrics: Metrics, read: GaugeReader): void {
	metrics.readers.push(read);
}

/** A count from the database (a string on PostgreSQL, null for an empty sum) as a number. */
export const gaugeNumber = (raw: unknown) => {
	const value = Number(raw ?? 0);
	return Number.isFinite(value) ? value : 0;
};

/** Sums rows per label value after folding unsafe ones, so "other" appears once; replaces every value. */
export function setByLabel<L extends string>(
	gauge: Gauge<L>,
	name: L,
	rows: { label: string | null; count: unknown }[]
): void {
	const totals = new Map<string, number>();
	for (const row of rows)
		totals.set(safe(row.label), (totals.get(safe(row.label)) ?? 0) + gaugeNumber(row.count));
	gauge.reset();
	for (const [value, count] of totals)
		gauge.set({ [name]: value } as Partial<Record<L, string>>, count);
}

/**
 * One scrape: the database gauges are read now (every reader at once), then the registry is
 * rendered as Prometheus text (`ctx.metrics.registry.contentType`). Rendering the registry
 * without this function shows the database gauges as of the previous scrape.
 */
export async function collectMetrics(ctx: Ctx): Promise<string> {
	// What this process still holds to write behind is stored first, so the gauges include it.
	await Promise.all([ctx.writeBehind.flush(), ctx.limits.flush()]);
	const setters = await Promise.all(ctx.metrics.readers.map((read) => read(ctx)));
	// Set synchronously once every answer is in: a concurrent scrape never sees a half-set family.
	for (const set of setters) set();
	return ctx.metrics.registry.metrics();
}
