import { sql } from 'kysely';
import { Counter, Gauge, Registry } from 'prom-client';
import { OPEN_APPEAL_STATUSES } from '$lib/types/account';
import type { Ctx } from '../core/context';
import type { Db } from '../db/database';

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
 * Labels are fixed vocabularies (outcomes, statuses, purposes, key prefixes): never an
 * identifier, code or token (R4).
 */
export interface Metrics {
	registry: Registry;
	/** Per process: checks this instance recorded, by outcome. Incremented by `countCheck`. */
	checks: Counter<'outcome'>;
	checksRecorded: Gauge<'outcome'>;
	codesIssued: Gauge<'purpose'>;
	codesConfirmed: Gauge<'purpose'>;
	codesExpiredUnused: Gauge<'purpose'>;
	codesPending: Gauge<'purpose'>;
	outboxMessages: Gauge<'status'>;
	outboxDeliveryFailures: Gauge<'status'>;
	outboxMessagesWithError: Gauge<'status'>;
	appealsOpen: Gauge<'status'>;
	appealsOverdue: Gauge;
	rateLimitActiveKeys: Gauge<'prefix'>;
	checkRateLimitExhaustedKeys: Gauge<'scope'>;
	/** Per process: R5 breached-password look-ups, by outcome (`unavailable`: failed open). */
	breachedPasswordChecks: Counter<'outcome'>;
	/** Per process: batches written behind (check events, in-process rate limits) that failed. */
	writeBehindFailures: Counter<'table'>;
}

/** The outcomes `check_events` records (run.ts); their counters start at 0 so every series exists. */
const CHECK_OUTCOMES = ['registered', 'unregistered', 'hidden', 'rate_limited'] as const;

// Only a known-safe shape leaves as a label; anything else is folded into "other" (R4).
const SAFE_LABEL = /^[a-z][a-z0-9_-]{0,40}$/;
const safe = (value: string | null | undefined) =>
	value && SAFE_LABEL.test(value) ? value : 'other';

/** The width of a `check_event_hours` roll-up (retention/tables.ts; platform/ may not import it). */
const HOUR_MS = 3_600_000;

const SHARED =
	'Read from the shared database: the same on every instance, aggregate with max, not sum.';

/** A fresh registry with every metric of this app; built once per context (`createAppContext`). */
export function createMetrics(): Metrics {
	const registry = new Registry();
	const registers = [registry];
	const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
		new Gauge<L>({ name, help: `${help} ${SHARED}`, labelNames, registers });

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
		checksRecorded: gauge(
			'asc_checks_recorded',
			'Security checks recorded since the first, by outcome (R15); older than CHECK_EVENTS_RETENTION_DAYS they are counted from hourly roll-ups.',
			['outcome']
		),
		codesIssued: gauge(
			'asc_verification_codes_issued',
			'Verification codes stored now, by purpose (R6): a resend replaces the previous code, and retention removes codes a day after they expired or were used, so this counts recent codes, not every code ever issued.',
			['purpose']
		),
		codesConfirmed: gauge(
			'asc_verification_codes_confirmed',
			'Stored codes that were used (within the last day), by purpose.',
			['purpose']
		),
		codesExpiredUnused: gauge(
			'asc_verification_codes_expired_unused',
			'Stored codes that expired without being used (within the last day), by purpose.',
			['purpose']
		),
		codesPending: gauge('asc_verification_codes_pending', 'Codes still usable now, by purpose.', [
			'purpose'
		]),
		outboxMessages: gauge(
			'asc_outbox_messages',
			'Outbox messages stored now, by status: pending is the delivery backlog (R7); sent and dead ones are removed OUTBOX_RETENTION_DAYS after.',
			['status']
		),
		outboxDeliveryFailures: gauge(
			'asc_outbox_delivery_failures',
			'Failed delivery attempts recorded on the stored outbox messages, by message status.',
			['status']
		),
		outboxMessagesWithError: gauge(
			'asc_outbox_messages_with_error',
			'Stored outbox messages whose last attempt failed, by status.',
			['status']
		),
		appealsOpen: gauge(
			'asc_appeals_open',
			'Appeals waiting on support or the appellant, by status (R20).',
			['status']
		),
		appealsOverdue: gauge(
			'asc_appeals_overdue',
			'Open appeals past their 48-hour due time (R20).',
			[]
		),
		rateLimitActiveKeys: gauge(
			'asc_rate_limit_active_keys',
			'Rate-limit windows and blocks in force, by key prefix (*-block prefixes are blocks).',
			['prefix']
		),
		checkRateLimitExhaustedKeys: gauge(
			'asc_check_rate_limit_exhausted_keys',
			'Check rate-limit keys over their limit right now, by scope (R15).',
			['scope']
		),
		breachedPasswordChecks
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

const n = (v: unknown) => {
	const value = Number(v ?? 0);
	return Number.isFinite(value) ? value : 0;
};

/** Sums rows per label value after folding unsafe ones, so "other" appears once; replaces every value. */
function setByLabel<L extends string>(
	gauge: Gauge<L>,
	name: L,
	rows: { label: string | null; count: unknown }[]
): void {
	const totals = new Map<string, number>();
	for (const r of rows) totals.set(safe(r.label), (totals.get(safe(r.label)) ?? 0) + n(r.count));
	gauge.reset();
	for (const [value, count] of totals)
		gauge.set({ [name]: value } as Partial<Record<L, string>>, count);
}

/**
 * R15: every check ever, without counting them all: the per-hour roll-ups (retention.ts) before
 * the first hour not rolled up yet, plus the raw events from there on (an indexed range on `at`).
 * Both sides split at the same instant, so a roll-up committed meanwhile is counted once. The
 * instant is read first and passed as a value: PostgreSQL plans a range it cannot see as a scan.
 */
async function checkTotals(db: Db): Promise<{ label: string; count: unknown }[]> {
	const last = await db
		.selectFrom('check_event_hours')
		.select((eb) => eb.fn.max<number | null>('hour_start').as('h'))
		.executeTakeFirst();
	const boundary = last?.h === null || last?.h === undefined ? 0 : Number(last.h) + HOUR_MS;
	const { rows } = await sql<{ label: string; count: unknown }>`
		select outcome as label, sum(n) as count from (
			select outcome, count as n from check_event_hours where hour_start < ${boundary}
			union all
			select outcome, count(*) as n from check_events where at >= ${boundary} group by outcome
		) as totals
		group by outcome`.execute(db);
	return rows;
}

/** Reads every database gauge with one round of queries (one Promise.all) and sets them. */
async function readDatabaseGauges(ctx: Ctx): Promise<void> {
	const { db, dialect, metrics } = ctx;
	const now = ctx.clock.now().getTime();
	const count = sql<number>`count(*)`;

	const [checks, codes, outbox, appeals, overdue, limits, checkLimits] = await Promise.all([
		checkTotals(db),
		db
			.selectFrom('verification_codes')
			.select([
				'purpose as label',
				count.as('issued'),
				sql<number>`sum(case when consumed_at is not null then 1 else 0 end)`.as('confirmed'),
				sql<number>`sum(case when consumed_at is null and expires_at <= ${now} then 1 else 0 end)`.as(
					'expired'
				),
				sql<number>`sum(case when consumed_at is null and expires_at > ${now} then 1 else 0 end)`.as(
					'pending'
				)
			])
			.groupBy('purpose')
			.execute(),
		db
			.selectFrom('outbox')
			.select([
				'status as label',
				count.as('count'),
				sql<number>`coalesce(sum(attempts), 0)`.as('failures'),
				sql<number>`sum(case when last_error is not null then 1 else 0 end)`.as('erroring')
			])
			.groupBy('status')
			.execute(),
		db
			.selectFrom('appeals')
			.select(['status as label', count.as('count')])
			.where('status', 'in', OPEN_APPEAL_STATUSES)
			.groupBy('status')
			.execute(),
		db
			.selectFrom('appeals')
			.select(count.as('count'))
			.where('status', 'in', OPEN_APPEAL_STATUSES)
			.where('due_at', '<', now)
			.executeTakeFirst(),
		// Keys look like `check:ip:<hmac>`: only the part before the first colon is reported.
		(dialect === 'postgres'
			? db
					.selectFrom('rate_limits')
					.select([sql<string>`split_part(key, ':', 1)`.as('label'), count.as('count')])
			: db
					.selectFrom('rate_limits')
					.select([
						sql<string>`substr(key, 1, instr(key || ':', ':') - 1)`.as('label'),
						count.as('count')
					])
		)
			.where('reset_at', '>', now)
			.groupBy(sql`1`)
			.execute(),
		db
			.selectFrom('rate_limits')
			.select([
				sql<number>`sum(case when key like 'check:ip:%' and points > ${ctx.config.checkRateLimit.perIp} then 1 else 0 end)`.as(
					'ip'
				),
				sql<number>`sum(case when key like 'check:id:%' and points > ${ctx.config.checkRateLimit.perIdentifier} then 1 else 0 end)`.as(
					'identifier'
				)
			])
			.where('reset_at', '>', now)
			.where('key', 'like', 'check:%')
			.executeTakeFirst()
	]);

	// Set synchronously once every answer is in: a concurrent scrape never sees a half-set family.
	const perPurpose = (field: 'issued' | 'confirmed' | 'expired' | 'pending') =>
		codes.map((r) => ({ label: r.label, count: r[field] }));
	setByLabel(metrics.checksRecorded, 'outcome', checks);
	setByLabel(metrics.codesIssued, 'purpose', perPurpose('issued'));
	setByLabel(metrics.codesConfirmed, 'purpose', perPurpose('confirmed'));
	setByLabel(metrics.codesExpiredUnused, 'purpose', perPurpose('expired'));
	setByLabel(metrics.codesPending, 'purpose', perPurpose('pending'));
	setByLabel(metrics.outboxMessages, 'status', outbox);
	setByLabel(
		metrics.outboxDeliveryFailures,
		'status',
		outbox.map((r) => ({ label: r.label, count: r.failures }))
	);
	setByLabel(
		metrics.outboxMessagesWithError,
		'status',
		outbox.map((r) => ({ label: r.label, count: r.erroring }))
	);
	setByLabel(metrics.appealsOpen, 'status', appeals);
	metrics.appealsOverdue.set(n(overdue?.count));
	setByLabel(metrics.rateLimitActiveKeys, 'prefix', limits);
	metrics.checkRateLimitExhaustedKeys.set({ scope: 'ip' }, n(checkLimits?.ip));
	metrics.checkRateLimitExhaustedKeys.set({ scope: 'identifier' }, n(checkLimits?.identifier));
}

/**
 * One scrape: the database gauges are read now (once, for all of them), then the registry is
 * rendered as Prometheus text (`ctx.metrics.registry.contentType`). Rendering the registry
 * without this function shows the database gauges as of the previous scrape.
 */
export async function collectMetrics(ctx: Ctx): Promise<string> {
	// What this process still holds to write behind is stored first, so the gauges include it.
	await Promise.all([ctx.writeBehind.flush(), ctx.limits.flush()]);
	await readDatabaseGauges(ctx);
	return ctx.metrics.registry.metrics();
}
