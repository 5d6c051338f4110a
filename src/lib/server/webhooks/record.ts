import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../core/audit';
import type { Ctx, EventSink } from '../core/context';
import { accountSubject, eventsOf } from './events';

/** A Standard Webhooks message id: the same on every attempt, so a receiver drops repeats. */
function newMessageId(): string {
	return `msg_${randomBytes(16).toString('base64url')}`;
}

/**
 * R27: called by `audit()` after its insert, in the caller's transaction: one `webhook_deliveries`
 * row per event and configured endpoint, so an event exists exactly when its change committed,
 * and the request that caused it never waits on a receiver.
 */
async function recorded(ctx: Ctx, entry: AuditEntry, at: number): Promise<void> {
	const endpoints = ctx.config.webhooks?.endpoints ?? [];
	if (endpoints.length === 0) return;
	const events = eventsOf(entry);
	if (events.length === 0) return;
	const subject = accountSubject(entry);
	let accountId = subject.accountId;
	if (!accountId && subject.appealId) {
		const appeal = await ctx.db
			.selectFrom('appeals')
			.select('account_id')
			.where('id', '=', subject.appealId)
			.executeTakeFirst();
		accountId = appeal?.account_id ?? undefined;
	}
	// An appeal filed for no account concerns no account: nothing to tell.
	if (!accountId) return;
	const timestamp = new Date(at).toISOString();
	const rows = events.flatMap((event) => {
		const body = JSON.stringify({
			type: event.type,
			timestamp,
			data: { accountId, ...event.data }
		});
		return endpoints.map((endpoint) => ({
			id: newMessageId(),
			endpoint,
			account_id: accountId,
			type: event.type,
			body,
			created_at: at,
			status: 'pending' as const,
			next_attempt_at: at
		}));
	});
	await ctx.db.insertInto('webhook_deliveries').values(rows).execute();
}

export const webhookEvents: EventSink = { recorded };
