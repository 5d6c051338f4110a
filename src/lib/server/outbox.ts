import { randomUUID } from 'node:crypto';
import type { Clock } from './clock';
import type { Db } from './db/database';

export interface OutboxMessageView {
	to: string;
	channel: 'email' | 'sms';
	purpose: string;
	code?: string;
	subject?: string;
	text: string;
	createdAt: string;
}

/** The dev outbox and test hook view: messages to one recipient, newest first. */
export async function listOutboxFor(db: Db, recipient: string): Promise<OutboxMessageView[]> {
	const rows = await db
		.selectFrom('outbox')
		.select(['recipient', 'channel', 'purpose', 'subject', 'body', 'created_at'])
		.where('recipient', '=', recipient)
		.orderBy('created_at', 'desc')
		.orderBy('id', 'desc')
		.limit(50)
		.execute();
	return rows.map((r) => {
		const code = /\b(\d{6})\b/.exec(r.body)?.[1];
		return {
			to: r.recipient,
			channel: r.channel,
			purpose: r.purpose,
			...(code ? { code } : {}),
			...(r.subject ? { subject: r.subject } : {}),
			text: r.body,
			createdAt: new Date(r.created_at).toISOString()
		};
	});
}

export interface OutgoingMessage {
	channel: 'email' | 'sms';
	/** Normalized email or E.164 phone (R1, R2). */
	recipient: string;
	purpose: string;
	locale: string;
	/** Email only; SMS has none. */
	subject: string | null;
	body: string;
}

/**
 * R7: writes the message in the caller's transaction (pass a Kysely Transaction or the Db), so it
 * is stored durably together with the state that needs it — a code row and the message that
 * carries it commit or roll back together. The outbox worker delivers it afterwards.
 */
export async function enqueueMessage(db: Db, clock: Clock, message: OutgoingMessage): Promise<string> {
	const id = randomUUID();
	const now = clock.now().getTime();
	await db
		.insertInto('outbox')
		.values({
			id,
			channel: message.channel,
			recipient: message.recipient,
			purpose: message.purpose,
			locale: message.locale,
			subject: message.subject,
			body: message.body,
			status: 'pending',
			next_attempt_at: now,
			locked_until: null,
			last_error: null,
			created_at: now,
			sent_at: null
		})
		.execute();
	return id;
}

export interface OutboxRowView {
	id: string;
	channel: 'email' | 'sms';
	recipient: string;
	purpose: string;
	subject: string | null;
	body: string;
	status: 'pending' | 'sent' | 'dead';
	attempts: number;
	lastError: string | null;
	createdAt: string;
}

/** The /dev/outbox page: the newest messages to anyone, with their delivery state. */
export async function listRecentOutbox(db: Db, limit = 100): Promise<OutboxRowView[]> {
	const rows = await db
		.selectFrom('outbox')
		.select(['id', 'channel', 'recipient', 'purpose', 'subject', 'body', 'status', 'attempts', 'last_error', 'created_at'])
		.orderBy('created_at', 'desc')
		.orderBy('id', 'desc')
		.limit(limit)
		.execute();
	return rows.map((r) => ({
		id: r.id,
		channel: r.channel,
		recipient: r.recipient,
		purpose: r.purpose,
		subject: r.subject,
		body: r.body,
		status: r.status,
		attempts: r.attempts,
		lastError: r.last_error,
		createdAt: new Date(r.created_at).toISOString()
	}));
}
