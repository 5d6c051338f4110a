import { sql } from 'kysely';
import { OPEN_APPEAL_STATUSES } from '$lib/types/account';
import type { Db } from './db/database';
import { registerMessagingGauges } from './messaging';
import {
	addGaugeReader,
	gaugeNumber,
	setByLabel,
	sharedGauge,
	type Metrics
} from './platform/metrics';

/**
 * The database gauges of every table (platform/metrics.ts holds none: it may not read a domain's
 * tables). Messaging registers its own; the checks, appeals and rate limits are read here, one
 * floor above the domains. Called once per context (`createAppContext`).
 */
export function registerDatabaseGauges(metrics: Metrics): void {
	registerMessagingGauges(metrics);
	registerCheckAndAppealGauges(metrics);
}

/** The width of a `check_event_hours` roll-up (retention/tables.ts). */
const HOUR_MS = 3_600_000;

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

function registerCheckAndAppealGauges(metrics: Metrics): void {
	const checksRecorded = sharedGauge(
		metrics,
		'asc_checks_recorded',
		'Security checks recorded since the first, by outcome (R15); older than CHECK_EVENTS_RETENTION_DAYS they are counted from hourly roll-ups.',
		['outcome']
	);
	const appealsOpen = sharedGauge(
		metrics,
		'asc_appeals_open',
		'Appeals waiting on support or the appellant, by status (R20).',
		['status']
	);
	const appealsOverdue = sharedGauge(
		metrics,
		'asc_appeals_overdue',
		'Open appeals past their 48-hour due time (R20).',
		[]
	);
	const rateLimitActiveKeys = sharedGauge(
		metrics,
		'asc_rate_limit_active_keys',
		'Rate-limit windows and blocks in force, by key prefix (*-block prefixes are blocks).',
		['prefix']
	);
	const checkRateLimitExhaustedKeys = sharedGauge(
		metrics,
		'asc_check_rate_limit_exhausted_keys',
		'Check rate-limit keys over their limit right now, by scope (R15).',
		['scope']
	);

	addGaugeReader(metrics, async (ctx) => {
		const { db, dialect } = ctx;
		const now = ctx.clock.now().getTime();
		const count = sql<number>`count(*)`;
		const [checks, appeals, overdue, limits, checkLimits] = await Promise.all([
			checkTotals(db),
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
		return () => {
			setByLabel(checksRecorded, 'outcome', checks);
			setByLabel(appealsOpen, 'status', appeals);
			appealsOverdue.set(gaugeNumber(overdue?.count));
			setByLabel(rateLimitActiveKeys, 'prefix', limits);
			checkRateLimitExhaustedKeys.set({ scope: 'ip' }, gaugeNumber(checkLimits?.ip));
			checkRateLimitExhaustedKeys.set(
				{ scope: 'identifier' },
				gaugeNumber(checkLimits?.identifier)
			);
		};
	});
}
