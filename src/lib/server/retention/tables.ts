import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { AGENT_SESSION_IDLE_TIMEOUT_MS } from '../support';
import type { Ctx } from '../core/context';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { log } from '../core/log';
import { SESSION_IDLE_TIMEOUT_MS } from '../accounts';
import { CODE_LIFETIME_MS } from '../messaging';

/**
 * Retention for every table that grows (docs/DATA.md says what each keeps and why). One hourly
 * job, safe with many instances: on PostgreSQL one instance at a time holds an advisory lock and
 * the others skip; every step is idempotent anyway, and the check roll-up inserts a complete
 * hour's counts or nothing, so two runs at once never count twice.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** R13: an expired unused code is still reported for a day; used ones go at the same age. */
const CODE_KEEP_MS = DAY_MS;
/** R10: a device no account came from, unseen this long (its cookie lives two years). */
const DEVICE_KEEP_MS = 400 * DAY_MS;
/**
 * A device an account signed in from, unseen this long, is forgotten: a sign-in from it alerts
 * again (new-device-alert.ts). The device cookie lives two years; a sign-in refreshes the row.
 */
const ACCOUNT_DEVICE_KEEP_MS = 400 * DAY_MS;
/** "This wasn't me" links: a day past their expiry (used or not), for the audit of a late click. */
const SECURE_LINK_KEEP_MS = DAY_MS;
/** R16 needs 180 days; agents read the history of a takeover long after (account view). */
const CONTACT_CHANGE_KEEP_MS = 730 * DAY_MS;
/** R19–R21: a decided appeal, its messages and document rows, counted from the decision. */
const APPEAL_KEEP_MS = 730 * DAY_MS;
/** Two-step: a TOTP set-up never confirmed (its secret was shown once and is useless now). */
const TOTP_SETUP_KEEP_MS = DAY_MS;
/** R27: delivered and failed webhook deliveries, for the console's view of recent trouble. */
const WEBHOOK_KEEP_MS = 30 * DAY_MS;
/** An hour is rolled up only once it is this far behind: instances' clocks differ a little. */
const ROLL_UP_GRACE_MS = 5 * 60_000;
/** PostgreSQL advisory lock of the run: (this class, hashtext of the schema). "ascr" in ASCII. */
export const ADVISORY_LOCK_CLASS = 0x61736372;
/** Deletes go in slices, so a first run over a large backlog never holds the write lock for long. */
const SLICE = 5_000;

type RetentionTable =
	| 'rate_limits'
	| 'check_events'
	| 'sessions'
	| 'agent_sessions'
	| 'verification_codes'
	| 'outbox'
	| 'devices'
	| 'account_devices'
	| 'secure_account_tokens'
	| 'recovery_cancel_tokens'
	| 'contact_changes'
	| 'appeal_messages'
	| 'appeal_documents'
	| 'appeals'
	| 'pending_sign_ins'
	| 'webauthn_challenges'
	| 'account_totp'
	| 'recovery_codes'
	| 'webhook_deliveries'
	| 'deletion_cancel_tokens';

export type RetentionResult =
	| { skipped: true }
	| {
			skipped: false;
			removed: Record<RetentionTable, number>;
			rolledUp: number;
			failed: string[];
			ms: number;
	  };

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
// A literal, not a parameter: SQLite would divide by a bound number as a real.
const HOUR = sql.lit(HOUR_MS);

/**
 * Deletes the rows of `table` matching `cond`, SLICE at a time: picks their keys, then deletes
 * those rows where `cond` still holds (a row that changed meanwhile, e.g. a rate-limit key a hit
 * just reopened, stays). Deleting by key keeps each slice a primary-key lookup.
 */
async function removeWhere<T extends keyof Database>(
	db: Db,
	table: T,
	key: keyof Database[T] & string,
	cond: (eb: ExpressionBuilder<Database, T>) => Expression<SqlBool>
): Promise<number> {
	// Kysely cannot type a query over a table picked by a type parameter; `cond` is typed by callers.
	type Loose = Record<string, Record<string, string | number>>;
	const loose = db as unknown as Kysely<Loose>;
	const where = cond as unknown as (eb: ExpressionBuilder<Loose, string>) => Expression<SqlBool>;
	const [from, column] = [table as string, key as string];
	let total = 0;
	for (;;) {
		const keys = (
			await loose.selectFrom(from).select(column).where(where).limit(SLICE).execute()
		).map((r) => r[column]!);
		if (keys.length > 0)
			total += Number(
				(await loose.deleteFrom(from).where(column, 'in', keys).where(where).executeTakeFirst())
					.numDeletedRows
			);
		if (keys.length < SLICE) return total;
	}
}

/**
 * R15: counts of every completed hour not rolled up yet, inserted or ignored per (hour, outcome).
 * Raw events stay CHECK_EVENTS_RETENTION_DAYS (≥ 7), far longer than the hour being rolled up,
 * so a second instance racing this one computes the same numbers and its insert is ignored.
 * Returns the number of (hour, outcome) rows this call inserted.
 */
export async function rollUpCheckEvents(ctx: Ctx): Promise<number> {
	const { db } = ctx;
	const until = floorHour(ctx.clock.now().getTime() - ROLL_UP_GRACE_MS);
	const last = await db
		.selectFrom('check_event_hours')
		.select((eb) => eb.fn.max<number | null>('hour_start').as('h'))
		.executeTakeFirst();
	const from = last?.h === null || last?.h === undefined ? 0 : Number(last.h) + HOUR_MS;
	if (from >= until) return 0;
	const hourStart = sql<number>`(at / ${HOUR}) * ${HOUR}`;
	const result = await db
		.insertInto('check_event_hours')
		.columns(['hour_start', 'outcome', 'count'])
		.expression(
			db
				.selectFrom('check_events')
				.select([hourStart.as('hour_start'), 'outcome', sql<number>`count(*)`.as('count')])
				.where('at', '>=', from)
				.where('at', '<', until)
				.groupBy([hourStart, 'outcome'])
		)
		.onConflict((oc) => oc.columns(['hour_start', 'outcome']).doNothing())
		.executeTakeFirst();
	return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Rows removed per table; `check_event_hours`: roll-up rows added. */
type Counts = Partial<Record<RetentionTable | 'check_event_hours', number>>;
type Step = (db: Db, now: number) => Promise<Counts>;

function steps(ctx: Ctx): Record<string, Step> {
	const { checkEventsDays, outboxDays } = ctx.config.retention;
	return {
		// A window that is over counts nothing (limits.ts treats it as absent).
		rate_limits: async (db, now) => ({
			rate_limits: await removeWhere(db, 'rate_limits', 'key', (eb) => eb('reset_at', '<=', now))
		}),
		// Raw events only go once their hours are rolled up (this step, same run).
		check_events: async (db, now) => {
			const rolledUp = await rollUpCheckEvents({ ...ctx, db });
			const cutoff = floorHour(now - checkEventsDays * DAY_MS);
			return {
				check_event_hours: rolledUp,
				check_events: await removeWhere(db, 'check_events', 'id', (eb) => eb('at', '<', cutoff))
			};
		},
		// Past the absolute lifetime or the idle timeout: what validateSessionToken refuses.
		sessions: async (db, now) => ({
			sessions: await removeWhere(db, 'sessions', 'id', (eb) =>
				eb.or([
					eb('expires_at', '<=', now),
					eb('last_active_at', '<=', now - SESSION_IDLE_TIMEOUT_MS)
				])
			)
		}),
		agent_sessions: async (db, now) => ({
			agent_sessions: await removeWhere(db, 'agent_sessions', 'id', (eb) =>
				eb.or([
					eb('expires_at', '<=', now),
					eb('last_active_at', '<=', now - AGENT_SESSION_IDLE_TIMEOUT_MS)
				])
			)
		}),
		// R13: expired or used more than a day ago. A code is used before it expires, so every such
		// row expires before cutoff + its lifetime: that bound lets the index on expires_at serve.
		verification_codes: async (db, now) => {
			const cutoff = now - CODE_KEEP_MS;
			return {
				verification_codes: await removeWhere(db, 'verification_codes', 'id', (eb) =>
					eb.and([
						eb('expires_at', '<', cutoff + CODE_LIFETIME_MS),
						eb.or([eb('expires_at', '<', cutoff), eb('consumed_at', '<', cutoff)])
					])
				)
			};
		},
		// R7: pending messages stay until delivered or given up. A dead row keeps the due time of
		// its last attempt, which is when it died (the attempt itself takes seconds).
		outbox: async (db, now) => {
			const cutoff = now - outboxDays * DAY_MS;
			return {
				outbox: await removeWhere(db, 'outbox', 'id', (eb) =>
					eb.or([
						eb.and([eb('status', '=', 'sent'), eb('sent_at', '<', cutoff)]),
						eb.and([eb('status', '=', 'dead'), eb('next_attempt_at', '<', cutoff)])
					])
				)
			};
		},
		// R27: pending deliveries stay (at most 24 hours, then failed); done ones go after 30 days.
		webhook_deliveries: async (db, now) => ({
			webhook_deliveries: await removeWhere(db, 'webhook_deliveries', 'id', (eb) =>
				eb.and([
					eb('status', 'in', ['delivered', 'failed']),
					eb('created_at', '<', now - WEBHOOK_KEEP_MS)
				])
			)
		}),
		// R10 counts accounts per device through accounts.reg_device_id: those devices stay.
		devices: async (db, now) => ({
			devices: await removeWhere(db, 'devices', 'id', (eb) =>
				eb.and([
					eb('last_seen_at', '<', now - DEVICE_KEEP_MS),
					eb.not(
						eb.exists(
							eb
								.selectFrom('accounts')
								.select('accounts.id')
								.whereRef('accounts.reg_device_id', '=', 'devices.id')
						)
					)
				])
			)
		}),
		account_devices: async (db, now) => ({
			account_devices: await removeWhere(db, 'account_devices', 'device_id', (eb) =>
				eb('last_seen_at', '<', now - ACCOUNT_DEVICE_KEEP_MS)
			)
		}),
		// Used links expire on the same schedule as unused ones: used_at is never later than that.
		secure_account_tokens: async (db, now) => ({
			secure_account_tokens: await removeWhere(db, 'secure_account_tokens', 'id', (eb) =>
				eb('expires_at', '<', now - SECURE_LINK_KEEP_MS)
			)
		}),
		// §8a cancel links: as the secure-account links, a day after the last moment one could work.
		recovery_cancel_tokens: async (db, now) => ({
			recovery_cancel_tokens: await removeWhere(db, 'recovery_cancel_tokens', 'id', (eb) =>
				eb('expires_at', '<', now - SECURE_LINK_KEEP_MS)
			)
		}),
		// R28: keep-my-account links, as the other links. They live until the deletion's time.
		deletion_cancel_tokens: async (db, now) => ({
			deletion_cancel_tokens: await removeWhere(db, 'deletion_cancel_tokens', 'id', (eb) =>
				eb('expires_at', '<', now - SECURE_LINK_KEEP_MS)
			)
		}),
		contact_changes: async (db, now) => ({
			contact_changes: await removeWhere(db, 'contact_changes', 'id', (eb) =>
				eb('changed_at', '<', now - CONTACT_CHANGE_KEEP_MS)
			)
		}),
		appeals: (db, now) => removeDecidedAppeals(db, now),
		// Two-step (§7a): pending sign-ins and WebAuthn challenges live minutes; an abandoned
		// TOTP set-up a day; recovery codes only while their account's TOTP is on. Passkeys stay
		// until their owner (or an approved appeal) removes them, or the account goes.
		two_step: async (db, now) => ({
			pending_sign_ins: await removeWhere(db, 'pending_sign_ins', 'id', (eb) =>
				eb('expires_at', '<=', now)
			),
			webauthn_challenges: await removeWhere(db, 'webauthn_challenges', 'id', (eb) =>
				eb('expires_at', '<=', now)
			),
			account_totp: await removeWhere(db, 'account_totp', 'account_id', (eb) =>
				eb.and([eb('confirmed_at', 'is', null), eb('created_at', '<', now - TOTP_SETUP_KEEP_MS)])
			),
			recovery_codes: await removeWhere(db, 'recovery_codes', 'code_hash', (eb) =>
				eb.not(
					eb.exists(
						eb
							.selectFrom('account_totp')
							.select('account_totp.account_id')
							.whereRef('account_totp.account_id', '=', 'recovery_codes.account_id')
							.where('account_totp.confirmed_at', 'is not', null)
					)
				)
			)
		})
	};
}

/**
 * Decided appeals APPEAL_KEEP_MS after the decision, once every document of theirs is gone
 * (retention/documents.ts deletes those after APPEAL_DOCUMENT_RETENTION_DAYS): messages, document
 * rows and the appeal go together. The audit log keeps what happened (R22).
 */
async function removeDecidedAppeals(db: Db, now: number): Promise<Counts> {
	const due = (eb: ExpressionBuilder<Database, 'appeals'>) =>
		eb.and([
			eb('status', 'in', ['approved', 'rejected', 'cancelled']),
			eb('decided_at', '<', now - APPEAL_KEEP_MS),
			eb.not(
				eb.exists(
					eb
						.selectFrom('appeal_documents')
						.select('appeal_documents.id')
						.whereRef('appeal_documents.appeal_id', '=', 'appeals.id')
						.where('appeal_documents.deleted_at', 'is', null)
				)
			)
		]);
	const removed = { appeal_messages: 0, appeal_documents: 0, appeals: 0 };
	for (;;) {
		const ids = (await db.selectFrom('appeals').select('id').where(due).limit(SLICE).execute()).map(
			(r) => r.id
		);
		if (ids.length === 0) return removed;
		await db.transaction().execute(async (trx) => {
			const messages = await trx
				.deleteFrom('appeal_messages')
				.where('appeal_id', 'in', ids)
				.executeTakeFirst();
			const documents = await trx
				.deleteFrom('appeal_documents')
				.where('appeal_id', 'in', ids)
				.where('deleted_at', 'is not', null)
				.executeTakeFirst();
			const appeals = await trx
				.deleteFrom('appeals')
				.where('id', 'in', ids)
				.where(due)
				.executeTakeFirst();
			removed.appeal_messages += Number(messages.numDeletedRows);
			removed.appeal_documents += Number(documents.numDeletedRows);
			removed.appeals += Number(appeals.numDeletedRows);
		});
		if (ids.length < SLICE) return removed;
	}
}

async function runSteps(ctx: Ctx, db: Db): Promise<RetentionResult> {
	const started = performance.now();
	const now = ctx.clock.now().getTime();
	const counts: Required<Counts> = {
		rate_limits: 0,
		check_events: 0,
		check_event_hours: 0,
		sessions: 0,
		agent_sessions: 0,
		verification_codes: 0,
		outbox: 0,
		devices: 0,
		account_devices: 0,
		secure_account_tokens: 0,
		recovery_cancel_tokens: 0,
		contact_changes: 0,
		appeal_messages: 0,
		appeal_documents: 0,
		appeals: 0,
		pending_sign_ins: 0,
		webauthn_challenges: 0,
		account_totp: 0,
		recovery_codes: 0,
		webhook_deliveries: 0,
		deletion_cancel_tokens: 0
	};
	const failed: string[] = [];
	// One failing step (a lock timeout, a constraint) must not keep the others from running.
	for (const [name, step] of Object.entries(steps(ctx))) {
		try {
			Object.assign(counts, await step(db, now));
		} catch (error) {
			failed.push(name);
			log.error({ event: 'retention.step_failed', step: name, message: (error as Error)?.message });
		}
	}
	const { check_event_hours: rolledUp, ...removed } = counts;
	const ms = Math.round(performance.now() - started);
	log.info({ event: 'retention.run', removed, rolledUp, failed, ms });
	return { skipped: false, removed, rolledUp, failed, ms };
}

/**
 * One retention run at the context's clock. On PostgreSQL the run holds a session advisory lock
 * (per schema, so test schemas sharing a database do not wait for each other); an instance that
 * finds it held skips. On SQLite there is one database file and the deletes are idempotent.
 */
export async function runRetention(ctx: Ctx): Promise<RetentionResult> {
	const { db, dialect } = ctx;
	// R15: this instance's check events and counters written behind are stored before the run.
	await Promise.all([ctx.writeBehind.flush(), ctx.limits.flush()]);
	if (dialect !== 'postgres') return runSteps(ctx, db);
	return db.connection().execute(async (conn) => {
		const lock = sql`${sql.lit(ADVISORY_LOCK_CLASS)}, hashtext(current_schema())`;
		const { rows } = await sql<{
			locked: boolean;
		}>`select pg_try_advisory_lock(${lock}) as locked`.execute(conn);
		if (!rows[0]?.locked) {
			log.info({ event: 'retention.skipped', reason: 'another instance is running it' });
			return { skipped: true };
		}
		try {
			return await runSteps(ctx, conn);
		} finally {
			await sql`select pg_advisory_unlock(${lock})`.execute(conn);
		}
	});
}

/**
 * The hourly job of this process: a first run soon after start, then every hour; timers are
 * unref'd and stop at adapter-node's shutdown. `stop()` waits for a run in progress.
 */
export function startRetention(
	ctx: Ctx,
	options: { intervalMs?: number; firstRunMs?: number } = {}
): { stop(): Promise<void> } {
	let running: Promise<unknown> | null = null;
	let stopped = false;
	const run = () => {
		if (running || stopped) return;
		running = runRetention(ctx)
			.catch((error: unknown) =>
				log.error({ event: 'retention.failed', message: (error as Error)?.message })
			)
			.finally(() => {
				running = null;
			});
	};
	const first = setTimeout(run, options.firstRunMs ?? 60_000);
	const every = setInterval(run, options.intervalMs ?? HOUR_MS);
	first.unref();
	every.unref();
	const stop = async () => {
		stopped = true;
		clearTimeout(first);
		clearInterval(every);
		process.off('sveltekit:shutdown', stop);
		await running;
	};
	process.once('sveltekit:shutdown', stop);
	return { stop };
}
