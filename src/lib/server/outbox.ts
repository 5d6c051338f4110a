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
