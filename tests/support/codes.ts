import type { Db } from '../../src/lib/server/db/database';
import { openContent } from '../../src/lib/server/messaging/outbox';
import { testKeyring } from '../../src/lib/server/core/keys';

/** The text of an outbox row as its recipient receives it (the stored payload is sealed). */
export async function messageText(db: Db, id: string): Promise<string> {
	const row = await db
		.selectFrom('outbox')
		.select(['id', 'payload'])
		.where('id', '=', id)
		.executeTakeFirstOrThrow();
	return openContent(testKeyring(), row.id, row.payload)?.body ?? '';
}

/**
 * The newest message to `recipient` (of `purpose`, when given: one request may queue several in
 * the same millisecond, e.g. a freeze notice and a reset code): its id, purpose and text.
 */
export async function latestMessage(
	db: Db,
	recipient: string,
	purpose?: string
): Promise<{ id: string; purpose: string; text: string }> {
	let query = db
		.selectFrom('outbox')
		.select(['id', 'purpose', 'payload'])
		.where('recipient', '=', recipient);
	if (purpose) query = query.where('purpose', '=', purpose);
	const row = await query
		.orderBy('created_at', 'desc')
		.orderBy('id', 'desc')
		.executeTakeFirstOrThrow();
	return {
		id: row.id,
		purpose: row.purpose,
		text: openContent(testKeyring(), row.id, row.payload)?.body ?? ''
	};
}

/** The newest code sent to `recipient`, read from the outbox as a person reads their messages. */
export async function latestCode(db: Db, recipient: string, purpose?: string): Promise<string> {
	const { text } = await latestMessage(db, recipient, purpose);
	const code = /\b(\d{6})\b/.exec(text)?.[1];
	if (!code) throw new Error(`no code in the latest message to ${recipient}`);
	return code;
}
