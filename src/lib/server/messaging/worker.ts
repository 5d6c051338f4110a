import type { Selectable } from 'kysely';
import type { Clock } from '../core/clock';
import type { Db } from '../db/database';
import type { OutboxTable } from '../db/schema';
import { maskIdentifier } from '../core/identifiers';
import { MESSAGE_COLUMNS, openContent } from './outbox';
import type { Keyring } from '../core/keys';
import type { Transport } from './transports';
import { claimAttempt } from '../db/claim';
import { intervalJob } from '../platform/interval-job';

type Channel = OutboxTable['channel'];

export interface OutboxWorkerDeps {
	db: Db;
	clock: Clock;
	/** Opens each payload just before it is sent. */
	keys: Keyring;
	/**
	 * Keep the text of delivered and dead messages (only with APP_TEST_HOOKS=1, so the test hook
	 * can still read codes that went out); otherwise it is erased once the message is done.
	 */
	keepText?: boolean;
	transports: { email: Transport | null; sms: Transport | null };
	/** Failed attempts before a message is given up as dead (default 8). */
	maxAttempts?: number;
	/** Rows looked at per run (default 20). */
	batchSize?: number;
	/** Structured events; data never holds a body, a code or a whole recipient (R4). */
	log?: (event: string, data: Record<string, unknown>) => void;
	/** 0 ≤ x < 1; spreads retries so a recovering gateway is not hit by all of them at once. */
	random?: () => number;
}

interface OutboxRunResult {
	sent: number;
	retried: number;
	dead: number;
}

export interface OutboxWorker {
	runOnce(): Promise<OutboxRunResult>;
	start(intervalMs?: number): void;
	stop(): Promise<void>;
}

/** A claimed row is invisible to other workers this long; far beyond the SMS 10 s timeout. */
const CLAIM_MS = 60_000;
const BASE_DELAY_MS = 5_000;
const MAX_DELAY_MS = 10 * 60_000;
const CHANNELS: readonly Channel[] = ['email', 'sms'];

type DueRow = Pick<
	Selectable<OutboxTable>,
	'id' | 'channel' | 'recipient' | 'purpose' | 'locale' | 'payload' | 'attempts' | 'locked_until'
>;

/** R7: 5 s, 10 s, 20 s … after the 1st, 2nd, 3rd failure, capped at 10 minutes. */
export function retryDelayMs(failedAttempts: number): number {
	return Math.min(BASE_DELAY_MS * 2 ** Math.max(failedAttempts - 1, 0), MAX_DELAY_MS);
}

function defaultLog(event: string, data: Record<string, unknown>): void {
	console.info(JSON.stringify({ event, ...data }));
}

/**
 * R7: delivers what `enqueueMessage` stored. Every row is claimed with a compare-and-set UPDATE
 * just before it is sent, so any number of workers in any number of processes, on SQLite or
 * PostgreSQL, send each message once; a failure schedules a retry instead of losing the message.
 */
export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
	const { db, clock, transports } = deps;
	const maxAttempts = deps.maxAttempts ?? 8;
	const batchSize = deps.batchSize ?? 20;
	const log = deps.log ?? defaultLog;
	const random = deps.random ?? Math.random;
	const ready = CHANNELS.filter((c) => transports[c] !== null);
	const unconfigured = CHANNELS.filter((c) => transports[c] === null);
	// Once a message is done (sent or given up) its sealed text goes too, unless the test hook needs it.
	const erased = deps.keepText ? {} : { payload: null };

	async function runOnce(): Promise<OutboxRunResult> {
		const result: OutboxRunResult = { sent: 0, retried: 0, dead: 0 };
		const now = clock.now().getTime();
		await reportUnconfigured(now);
		if (ready.length === 0) return result;
		// Only channels that can send are fetched, so a queue of undeliverable SMS never starves email.
		const due = await db
			.selectFrom('outbox')
			.select([...MESSAGE_COLUMNS, 'locale', 'attempts', 'locked_until'])
			.where('status', '=', 'pending')
			.where('channel', 'in', ready)
			.where('next_attempt_at', '<=', now)
			.where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
			.orderBy('next_attempt_at')
			.orderBy('id')
			.limit(batchSize)
			.execute();
		for (const row of due) {
			const outcome = await deliver(row);
			if (outcome) result[outcome] += 1;
		}
		return result;
	}

	async function deliver(row: DueRow): Promise<keyof OutboxRunResult | null> {
		const transport = transports[row.channel];
		if (!transport) return null;
		// Claimed just before sending (not for the whole batch) so a slow batch never outlives its lock.
		const claimedAt = clock.now().getTime();
		const lockedUntil = claimedAt + CLAIM_MS;
		// Another worker changed the row since we read it: it owns this attempt.
		if (!(await claimAttempt(db, 'outbox', row, lockedUntil))) return null;

		const who = {
			id: row.id,
			channel: row.channel,
			purpose: row.purpose,
			to: maskRecipient(row.channel, row.recipient)
		};
		let content: ReturnType<typeof openContent>;
		try {
			content = openContent(deps.keys, row.id, row.payload);
		} catch {
			content = null;
		}
		// A payload no key on the ring opens (or none at all) can never be sent: give it up at once.
		if (!content) return giveUp(row, who, 'payload unreadable (key ring)');
		try {
			await transport.send({
				id: row.id,
				channel: row.channel,
				recipient: row.recipient,
				subject: content.subject,
				body: content.body,
				locale: row.locale,
				purpose: row.purpose
			});
		} catch (error) {
			return recordFailure(row, lockedUntil, safeErrorText(error, row, content.body), who);
		}
		const sentAt = clock.now().getTime();
		// Not conditional on our lock: once the transport accepted it, no one may send it again.
		await db
			.updateTable('outbox')
			.set({
				status: 'sent',
				sent_at: sentAt,
				locked_until: null,
				last_error: null,
				...(transport.keepsText ? {} : erased)
			})
			.where('id', '=', row.id)
			.where('status', '=', 'pending')
			.execute();
		log('outbox.sent', { ...who, attempt: row.attempts + 1 });
		return 'sent';
	}

	async function recordFailure(
		row: DueRow,
		lockedUntil: number,
		lastError: string,
		who: Record<string, unknown>
	): Promise<keyof OutboxRunResult> {
		const failedAt = clock.now().getTime();
		const attempts = row.attempts + 1;
		// R7: a message is only given up after maxAttempts failures (about 18 minutes with the defaults).
		const dead = attempts >= maxAttempts;
		const base = retryDelayMs(attempts);
		const nextAttemptAt = failedAt + base + Math.floor(base * 0.1 * random());
		await db
			.updateTable('outbox')
			.set({
				attempts,
				last_error: lastError,
				locked_until: null,
				...(dead ? { status: 'dead' as const, ...erased } : { next_attempt_at: nextAttemptAt })
			})
			.where('id', '=', row.id)
			.where('status', '=', 'pending')
			.where('locked_until', '=', lockedUntil)
			.execute();
		if (dead) {
			log('outbox.dead', { ...who, attempts, error: lastError });
			return 'dead';
		}
		log('outbox.retry', {
			...who,
			attempts,
			error: lastError,
			nextAttemptAt: new Date(nextAttemptAt).toISOString()
		});
		return 'retried';
	}

	/** A message that cannot be opened is dead at once, without a send attempt (R7 keeps no text). */
	async function giveUp(
		row: DueRow,
		who: Record<string, unknown>,
		reason: string
	): Promise<keyof OutboxRunResult> {
		await db
			.updateTable('outbox')
			.set({
				status: 'dead',
				attempts: row.attempts + 1,
				last_error: reason,
				locked_until: null,
				payload: null
			})
			.where('id', '=', row.id)
			.where('status', '=', 'pending')
			.execute();
		log('outbox.dead', { ...who, attempts: row.attempts + 1, error: reason });
		return 'dead';
	}

	async function reportUnconfigured(now: number): Promise<void> {
		if (unconfigured.length === 0) return;
		const rows = await db
			.selectFrom('outbox')
			.select(['channel', (eb) => eb.fn.countAll<number | string>().as('count')])
			.where('status', '=', 'pending')
			.where('channel', 'in', unconfigured)
			.where('next_attempt_at', '<=', now)
			.groupBy('channel')
			.execute();
		for (const r of rows) {
			// Kept pending, no attempt counted: configuring the channel delivers them all.
			log('outbox.channel_unconfigured', { channel: r.channel, waiting: Number(r.count) });
		}
	}

	return {
		runOnce,
		...intervalJob(runOnce, (error: unknown) =>
			log('outbox.run_failed', { error: error instanceof Error ? error.name : 'unknown' })
		)
	};
}

/** R4: logs show `j***n@e***.com` / `+86 138****5678`, never the whole recipient. */
function maskRecipient(channel: Channel, recipient: string): string {
	return maskIdentifier({ kind: channel === 'email' ? 'email' : 'phone', value: recipient });
}

/** A short reason to store and log: never the body, the code or the recipient. */
function safeErrorText(error: unknown, row: DueRow, body: string): string {
	const raw = error instanceof Error ? error.message : 'failed';
	let text = raw.split('\n')[0] ?? '';
	for (const secret of [body, row.recipient]) {
		if (secret) text = text.split(secret).join('[redacted]');
	}
	// Codes and phone numbers are digit runs; HTTP statuses and timeouts are shorter.
	text = text.replace(/\d{6,}/g, '[redacted]');
	return text.slice(0, 200) || 'failed';
}
