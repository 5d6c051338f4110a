import type { Selectable } from 'kysely';
import type { Clock } from '../core/clock';
import type { Db } from '../db/database';
import type { WebhookDeliveriesTable } from '../db/schema';
import { signWebhook } from './signature';
import { claimAttempt } from '../db/claim';
import { intervalJob } from '../platform/interval-job';

/**
 * R27: sends what `record.ts` stored. Per account and endpoint in order: a row is due only when
 * no older row of the same account and endpoint is still pending. Each attempt is claimed with a
 * compare-and-set UPDATE (as the outbox worker does), so any number of processes send each once.
 */

interface WebhookWorkerDeps {
	db: Db;
	clock: Clock;
	secret: Buffer;
	/** Structured events: ids, types, hosts and statuses only, never a body (R4). */
	log?: (event: string, data: Record<string, unknown>) => void;
	/** 0 ≤ x < 1; spreads retries so a receiver coming back is not hit by all at once. */
	random?: () => number;
	/** Rows looked at per round (default 20). */
	batchSize?: number;
}

interface WebhookRunResult {
	delivered: number;
	retried: number;
	failed: number;
}

interface WebhookWorker {
	runOnce(): Promise<WebhookRunResult>;
	start(intervalMs?: number): void;
	stop(): Promise<void>;
}

const SEND_TIMEOUT_MS = 10_000;
/** A claimed row is invisible to other workers this long; far beyond the send timeout. */
const CLAIM_MS = 60_000;
const BASE_DELAY_MS = 10_000;
const MAX_DELAY_MS = 3_600_000;
/** R27: an event is retried this long after it happened, then given up (`failed`). */
export const RETRY_WINDOW_MS = 24 * 3_600_000;
/** Rounds per run: each round can move every account one event further. */
const MAX_ROUNDS = 10;

type DueRow = Pick<
	Selectable<WebhookDeliveriesTable>,
	'id' | 'endpoint' | 'type' | 'body' | 'created_at' | 'attempts' | 'locked_until'
>;

/** R27: 10 s, 20 s, 40 s … after the 1st, 2nd, 3rd failure, capped at an hour. */
function webhookRetryDelayMs(failedAttempts: number): number {
	return Math.min(BASE_DELAY_MS * 2 ** Math.max(failedAttempts - 1, 0), MAX_DELAY_MS);
}

export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
	const { db, clock, secret } = deps;
	const log = deps.log ?? (() => {});
	const random = deps.random ?? Math.random;
	const batchSize = deps.batchSize ?? 20;

	async function dueRows(now: number): Promise<DueRow[]> {
		return (
			db
				.selectFrom('webhook_deliveries as row')
				.select([
					'row.id',
					'row.endpoint',
					'row.type',
					'row.body',
					'row.created_at',
					'row.attempts',
					'row.locked_until'
				])
				.where('row.status', '=', 'pending')
				.where('row.next_attempt_at', '<=', now)
				.where((eb) =>
					eb.or([eb('row.locked_until', 'is', null), eb('row.locked_until', '<=', now)])
				)
				// R27: in order per account and endpoint; an older event still pending goes first.
				.where(({ not, exists, selectFrom }) =>
					not(
						exists(
							selectFrom('webhook_deliveries as older')
								.select('older.seq')
								.whereRef('older.account_id', '=', 'row.account_id')
								.whereRef('older.endpoint', '=', 'row.endpoint')
								.where('older.status', '=', 'pending')
								.whereRef('older.seq', '<', 'row.seq')
						)
					)
				)
				.orderBy('row.seq')
				.limit(batchSize)
				.execute()
		);
	}

	async function runOnce(): Promise<WebhookRunResult> {
		const result: WebhookRunResult = { delivered: 0, retried: 0, failed: 0 };
		for (let round = 0; round < MAX_ROUNDS; round += 1) {
			const due = await dueRows(clock.now().getTime());
			let moved = 0;
			for (const row of due) {
				const outcome = await deliver(row);
				if (outcome) result[outcome] += 1;
				if (outcome === 'delivered' || outcome === 'failed') moved += 1;
			}
			// The next round only has work if an event left the head of its account's queue.
			if (moved === 0) break;
		}
		return result;
	}

	async function deliver(row: DueRow): Promise<keyof WebhookRunResult | null> {
		const claimedAt = clock.now().getTime();
		const lockedUntil = claimedAt + CLAIM_MS;
		// Another worker changed the row since we read it: it owns this attempt.
		if (!(await claimAttempt(db, 'webhook_deliveries', row, lockedUntil))) return null;
		const who = { id: row.id, type: row.type, host: hostOf(row.endpoint) };
		const problem = await post(row, Math.floor(claimedAt / 1000));
		if (problem === null) {
			// Not conditional on our lock: once the receiver took it, no one sends it again.
			await db
				.updateTable('webhook_deliveries')
				.set({
					status: 'delivered',
					delivered_at: clock.now().getTime(),
					locked_until: null,
					last_error: null
				})
				.where('id', '=', row.id)
				.where('status', '=', 'pending')
				.execute();
			log('webhook.delivered', { ...who, attempt: row.attempts + 1 });
			return 'delivered';
		}
		const failedAt = clock.now().getTime();
		const attempts = row.attempts + 1;
		const giveUpAt = row.created_at + RETRY_WINDOW_MS;
		const failed = failedAt >= giveUpAt;
		const base = webhookRetryDelayMs(attempts);
		// The last try falls at the end of the window, not after it.
		const nextAttemptAt = Math.min(failedAt + base + Math.floor(base * 0.1 * random()), giveUpAt);
		await db
			.updateTable('webhook_deliveries')
			.set({
				attempts,
				last_error: problem,
				locked_until: null,
				...(failed ? { status: 'failed' as const } : { next_attempt_at: nextAttemptAt })
			})
			.where('id', '=', row.id)
			.where('status', '=', 'pending')
			.where('locked_until', '=', lockedUntil)
			.execute();
		log(failed ? 'webhook.failed' : 'webhook.retry', { ...who, attempts, error: problem });
		return failed ? 'failed' : 'retried';
	}

	/** null when the receiver answered 2xx; otherwise a short reason, never its answer's body. */
	async function post(row: DueRow, timestamp: number): Promise<string | null> {
		try {
			const response = await fetch(row.endpoint, {
				method: 'POST',
				headers: {
					'content-type': 'application/json',
					'user-agent': 'AccountSecurityCheck-Webhooks/1',
					'webhook-id': row.id,
					'webhook-timestamp': String(timestamp),
					'webhook-signature': signWebhook(secret, row.id, timestamp, row.body)
				},
				body: row.body,
				// A redirect is a failure: the signed body goes only where the operator said.
				redirect: 'manual',
				signal: AbortSignal.timeout(SEND_TIMEOUT_MS)
			});
			await response.body?.cancel();
			return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
		} catch (error) {
			if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
			const code = (error as { cause?: { code?: unknown } })?.cause?.code;
			return typeof code === 'string' ? code.slice(0, 40) : 'network error';
		}
	}

	return {
		runOnce,
		...intervalJob(runOnce, (error: unknown) =>
			log('webhook.run_failed', { error: error instanceof Error ? error.name : 'unknown' })
		)
	};
}

/** Where a delivery goes, for logs and the console: the host, never the path or a query. */
export function hostOf(endpoint: string): string {
	return URL.canParse(endpoint) ? new URL(endpoint).host : 'invalid';
}
