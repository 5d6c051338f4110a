import { sql } from 'kysely';
import type { AppContext } from '../core/context';
import type { Db } from '../db/database';
import { HOUR_MS } from '../retention/tables';

/**
 * Prometheus metrics computed from the shared database, so every instance reports the same
 * numbers and a scrape of any one of them is the whole picture. Labels are fixed vocabularies
 * (outcomes, statuses, purposes, key prefixes): never an identifier, code or token (R4).
 */
type Sample = { labels?: Record<string, string>; value: number };
type Family = { name: string; help: string; type: 'gauge' | 'counter'; samples: Sample[] };

// Only a known-safe shape leaves as a label; anything else is folded into "other" (R4).
const SAFE_LABEL = /^[a-z][a-z0-9_-]{0,40}$/;
const safe = (value: string | null | undefined) => (value && SAFE_LABEL.test(value) ? value : 'other');

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function renderMetrics(families: Family[]): string {
	const lines: string[] = [];
	for (const f of families) {
		lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
		for (const s of f.samples) {
			const labels = Object.entries(s.labels ?? {});
			const text = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
			lines.push(`${f.name}${text} ${Number.isFinite(s.value) ? s.value : 0}`);
		}
	}
	return lines.join('\n') + '\n';
}

const n = (v: unknown) => Number(v ?? 0);

/** Sums rows per label value after folding unsafe ones, so "other" appears once. */
function byLabel(name: string, rows: { label: string | null; count: unknown }[]): Sample[] {
	const totals = new Map<string, number>();
	for (const r of rows) totals.set(safe(r.label), (totals.get(safe(r.label)) ?? 0) + n(r.count));
	return [...totals].map(([value, count]) => ({ labels: { [name]: value }, value: count }));
}

/**
 * R15: every check ever, without counting them all: the per-hour roll-ups (retention.ts) before
 * the first hour not rolled up yet, plus the raw events from there on (an indexed range on `at`).
 * Both sides split at the same instant, so a roll-up committed meanwhile is counted once. The
 * instant is read first and passed as a value: PostgreSQL plans a range it cannot see as a scan.
 */
async function checkTotals(db: Db): Promise<{ label: string; count: unknown }[]> {
	const last = await db.selectFrom('check_event_hours').select((eb) => eb.fn.max<number | null>('hour_start').as('h')).executeTakeFirst();
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

export async function collectMetrics(app: Pick<AppContext, 'database' | 'clock' | 'config'>): Promise<string> {
	const { db, dialect } = app.database;
	const now = app.clock.now().getTime();
	const count = sql<number>`count(*)`;

	const [checks, codes, outbox, appeals, overdue, limits, checkLimits] = await Promise.all([
		checkTotals(db),
		db
			.selectFrom('verification_codes')
			.select([
				'purpose as label',
				count.as('issued'),
				sql<number>`sum(case when consumed_at is not null then 1 else 0 end)`.as('confirmed'),
				sql<number>`sum(case when consumed_at is null and expires_at <= ${now} then 1 else 0 end)`.as('expired'),
				sql<number>`sum(case when consumed_at is null and expires_at > ${now} then 1 else 0 end)`.as('pending')
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
			.where('status', 'in', ['submitted', 'in_review', 'needs_info'])
			.groupBy('status')
			.execute(),
		db
			.selectFrom('appeals')
			.select(count.as('count'))
			.where('status', 'in', ['submitted', 'in_review', 'needs_info'])
			.where('due_at', '<', now)
			.executeTakeFirst(),
		// Keys look like `check:ip:<hmac>`: only the part before the first colon is reported.
		(dialect === 'postgres'
			? db.selectFrom('rate_limits').select([sql<string>`split_part(key, ':', 1)`.as('label'), count.as('count')])
			: db.selectFrom('rate_limits').select([sql<string>`substr(key, 1, instr(key || ':', ':') - 1)`.as('label'), count.as('count')])
		)
			.where('reset_at', '>', now)
			.groupBy(sql`1`)
			.execute(),
		db
			.selectFrom('rate_limits')
			.select([
				sql<number>`sum(case when key like 'check:ip:%' and points > ${app.config.checkRateLimit.perIp} then 1 else 0 end)`.as('ip'),
				sql<number>`sum(case when key like 'check:id:%' and points > ${app.config.checkRateLimit.perIdentifier} then 1 else 0 end)`.as('identifier')
			])
			.where('reset_at', '>', now)
			.where('key', 'like', 'check:%')
			.executeTakeFirst()
	]);

	const perPurpose = (field: 'issued' | 'confirmed' | 'expired' | 'pending'): Sample[] =>
		byLabel('purpose', codes.map((r) => ({ label: r.label, count: r[field] })));
	const memory = process.memoryUsage();

	return renderMetrics([
		{ name: 'asc_checks', type: 'counter', help: 'Security checks answered since the first, by outcome (R15); older than CHECK_EVENTS_RETENTION_DAYS they are counted from hourly roll-ups.', samples: byLabel('outcome', checks) },
		{ name: 'asc_verification_codes_issued', type: 'gauge', help: 'Verification codes stored now, by purpose (R6): a resend replaces the previous code, and retention removes codes a day after they expired or were used, so this counts recent codes, not every code ever issued.', samples: perPurpose('issued') },
		{ name: 'asc_verification_codes_confirmed', type: 'gauge', help: 'Stored codes that were used (within the last day), by purpose.', samples: perPurpose('confirmed') },
		{ name: 'asc_verification_codes_expired_unused', type: 'gauge', help: 'Stored codes that expired without being used (within the last day), by purpose.', samples: perPurpose('expired') },
		{ name: 'asc_verification_codes_pending', type: 'gauge', help: 'Codes still usable now, by purpose.', samples: perPurpose('pending') },
		{ name: 'asc_outbox_messages', type: 'gauge', help: 'Outbox messages stored now, by status: pending is the delivery backlog (R7); sent and dead ones are removed OUTBOX_RETENTION_DAYS after.', samples: byLabel('status', outbox) },
		{ name: 'asc_outbox_delivery_failures', type: 'gauge', help: 'Failed delivery attempts recorded on the stored outbox messages, by message status.', samples: byLabel('status', outbox.map((r) => ({ label: r.label, count: r.failures }))) },
		{ name: 'asc_outbox_messages_with_error', type: 'gauge', help: 'Stored outbox messages whose last attempt failed, by status.', samples: byLabel('status', outbox.map((r) => ({ label: r.label, count: r.erroring }))) },
		{ name: 'asc_appeals_open', type: 'gauge', help: 'Appeals waiting on support or the appellant, by status (R20).', samples: byLabel('status', appeals) },
		{ name: 'asc_appeals_overdue', type: 'gauge', help: 'Open appeals past their 48-hour due time (R20).', samples: [{ value: n(overdue?.count) }] },
		{ name: 'asc_rate_limit_active_keys', type: 'gauge', help: 'Rate-limit windows and blocks in force, by key prefix (*-block prefixes are blocks).', samples: byLabel('prefix', limits) },
		{ name: 'asc_check_rate_limit_exhausted_keys', type: 'gauge', help: 'Check rate-limit keys over their limit right now, by scope (R15).', samples: [{ labels: { scope: 'ip' }, value: n(checkLimits?.ip) }, { labels: { scope: 'identifier' }, value: n(checkLimits?.identifier) }] },
		{ name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident set size of this instance.', samples: [{ value: memory.rss }] },
		{ name: 'process_uptime_seconds', type: 'gauge', help: 'Seconds since this instance started.', samples: [{ value: Math.round(process.uptime()) }] }
	]);
}
