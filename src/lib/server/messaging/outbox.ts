import { randomUUID } from 'node:crypto';
import type { Keyring } from '../core/keys';
import type { Ctx } from '../core/context';

/** What the sealed `payload` of an outbox row holds (subject and text: codes live here). */
export interface MessageContent {
	subject: string | null;
	body: string;
}

/**
 * The payload is sealed with the key ring (AES-256-GCM, bound to the row id), so a copy of the
 * database holds no code; it is erased once the message is delivered or given up.
 */
export function sealContent(keys: Keyring, id: string, content: MessageContent): string {
	return keys.seal('outbox', id, JSON.stringify(content));
}

/** The content of a row still holding its payload; null once it was erased. */
export function openContent(
	keys: Keyring,
	id: string,
	payload: string | null
): MessageContent | null {
	if (payload === null) return null;
	return JSON.parse(keys.open('outbox', id, payload).toString('utf8')) as MessageContent;
}

/** The six-digit code a message carries (R6), if any. */
const codeIn = (content: MessageContent | null) =>
	content ? /\b(\d{6})\b/.exec(content.body)?.[1] : undefined;

/** What every reader of a stored message selects: who it goes to, how, why, and its sealed text. */
export const MESSAGE_COLUMNS = ['id', 'channel', 'recipient', 'purpose', 'payload'] as const;

/** A stored message's text for a developer (text once erased: none) and the code it carries. */
function readableText(keys: Keyring, row: { id: string; payload: string | null }) {
	const content = openContent(keys, row.id, row.payload);
	const code = codeIn(content);
	return {
		subject: content?.subject ?? null,
		body: content?.body ?? '',
		...(code ? { code } : {})
	};
}

export interface OutboxMessageView {
	to: string;
	channel: 'email' | 'sms';
	purpose: string;
	code?: string;
	subject?: string;
	text: string;
	createdAt: string;
}

/** The dev outbox and test hook view: messages to one recipient, newest first (text once erased: none). */
export async function listOutboxFor(ctx: Ctx, recipient: string): Promise<OutboxMessageView[]> {
	const rows = await ctx.db
		.selectFrom('outbox')
		.select([...MESSAGE_COLUMNS, 'created_at'])
		.where('recipient', '=', recipient)
		.orderBy('created_at', 'desc')
		.orderBy('id', 'desc')
		.limit(50)
		.execute();
	return rows.map((r) => {
		const { subject, body, ...code } = readableText(ctx.keys, r);
		return {
			to: r.recipient,
			channel: r.channel,
			purpose: r.purpose,
			...code,
			...(subject ? { subject } : {}),
			text: body,
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
export async function enqueueMessage(ctx: Ctx, message: OutgoingMessage): Promise<string> {
	const { db } = ctx;
	const id = randomUUID();
	const now = ctx.clock.now().getTime();
	await db
		.insertInto('outbox')
		.values({
			id,
			channel: message.channel,
			recipient: message.recipient,
			purpose: message.purpose,
			locale: message.locale,
			payload: sealContent(ctx.keys, id, { subject: message.subject, body: message.body }),
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
	/** Empty once delivered or given up (the text is erased). */
	body: string;
	/** The verification code the message carries, shown first (a developer is looking for it). */
	code?: string;
	status: 'pending' | 'sent' | 'dead';
	attempts: number;
	lastError: string | null;
	createdAt: string;
}

/** The /dev/outbox page: the newest messages to anyone, with their delivery state. */
export async function listRecentOutbox(ctx: Ctx, limit = 100): Promise<OutboxRowView[]> {
	const rows = await ctx.db
		.selectFrom('outbox')
		.select([...MESSAGE_COLUMNS, 'status', 'attempts', 'last_error', 'created_at'])
		.orderBy('created_at', 'desc')
		.orderBy('id', 'desc')
		.limit(limit)
		.execute();
	return rows.map((r) => ({
		id: r.id,
		channel: r.channel,
		recipient: r.recipient,
		purpose: r.purpose,
		...readableText(ctx.keys, r),
		status: r.status,
		attempts: r.attempts,
		lastError: r.last_error,
		createdAt: new Date(r.created_at).toISOString()
	}));
}
