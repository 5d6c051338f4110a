import type { Db } from '../../src/lib/server/db/database';

/** The newest code sent to `recipient`, read from the outbox as a person reads their messages. */
export async function latestCode(db: Db, recipient: string): Promise<string> {
	const row = await db
		.selectFrom('outbox')
		.select('body')
		.where('recipient', '=', recipient)
		.orderBy('created_at', 'desc')
		.executeTakeFirstOrThrow();
	const code = /\b(\d{6})\b/.exec(row.body)?.[1];
	if (!code) throw new Error(`no code in the latest message to ${recipient}`);
	return code;
}
