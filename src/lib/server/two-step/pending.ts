import type { Ctx } from '../core/context';
import { hashToken, newToken } from '../core/tokens';
import { writeAtEpoch } from '../accounts';

/** A sign-in whose password was right waits this long for its second factor. */
const PENDING_SIGN_IN_MS = 5 * 60_000;

/**
 * Starts a pending sign-in: the browser gets the token, the database only its hash and the
 * account's credential epoch its password step read (§7a). Null, and nothing written, when a
 * remedy ended the account's sessions since (or froze it): `writeAtEpoch`.
 */
export async function createPendingSignIn(
	ctx: Ctx,
	accountId: string,
	epoch: number
): Promise<{ token: string; expiresAt: Date } | null> {
	const token = newToken();
	const now = ctx.clock.now().getTime();
	const written = await writeAtEpoch(ctx, accountId, epoch, async (trx) => {
		await trx.db
			.insertInto('pending_sign_ins')
			.values({
				id: hashToken(token),
				account_id: accountId,
				created_at: now,
				expires_at: now + PENDING_SIGN_IN_MS,
				session_epoch: epoch
			})
			.execute();
	});
	return written ? { token, expiresAt: new Date(now + PENDING_SIGN_IN_MS) } : null;
}

/** A pending sign-in: its row, its account, and the epoch its session must start at (§7a). */
export interface PendingSignIn {
	id: string;
	accountId: string;
	epoch: number;
}

/** The live pending sign-in of this token, or null (unknown, expired or already finished). */
export async function readPendingSignIn(
	ctx: Ctx,
	token: string | null
): Promise<PendingSignIn | null> {
	if (!token) return null;
	const row = await ctx.db
		.selectFrom('pending_sign_ins')
		.select(['id', 'account_id', 'session_epoch'])
		.where('id', '=', hashToken(token))
		.where('expires_at', '>', ctx.clock.now().getTime())
		.executeTakeFirst();
	return row ? { id: row.id, accountId: row.account_id, epoch: row.session_epoch } : null;
}

/** Finishing is a delete: one pending sign-in yields at most one session. */
export async function finishPendingSignIn(ctx: Ctx, id: string): Promise<boolean> {
	const done = await ctx.db
		.deleteFrom('pending_sign_ins')
		.where('id', '=', id)
		.where('expires_at', '>', ctx.clock.now().getTime())
		.executeTakeFirst();
	return done.numDeletedRows > 0n;
}
