import type { Ctx } from '../core/context';
import { expiresAt, sessionState, type SessionPolicy } from '../core/session-policy';
import { hashToken, newToken } from '../core/tokens';
import type { Account } from '../db/schema';

/**
 * Buyer sessions after the Lucia guide: a 160-bit random token in an HttpOnly cookie, only its
 * SHA-256 in the database, plus an idle timeout and an absolute lifetime (which lucia v3 lacked).
 */
export const SESSION_IDLE_TIMEOUT_MS = 24 * 3_600_000;
const SESSION_ABSOLUTE_LIFETIME_MS = 14 * 86_400_000;
const POLICY: SessionPolicy = {
	idleMs: SESSION_IDLE_TIMEOUT_MS,
	absoluteMs: SESSION_ABSOLUTE_LIFETIME_MS
};

export interface Session {
	id: string;
	accountId: string;
	createdAt: Date;
	expiresAt: Date;
}

export type SessionValidationResult =
	{ session: Session; account: Account } | { session: null; account: null };

export const generateSessionToken = newToken;
const sessionIdFromToken = hashToken;

/**
 * §7a, the credential epoch: whoever starts a session or a pending sign-in claims the account at
 * the epoch its sign-in read with the account (before the password or second-factor work), in the
 * transaction that then writes the row. The claim is a no-op conditional update, so on PostgreSQL
 * (READ COMMITTED) it takes the account's row lock: a remedy running at the same time
 * (`invalidateAccountSessions`, which moves the epoch on first) either waits for this commit and
 * then deletes what it wrote, or commits first and this update matches no row. A frozen account
 * (§7b) is claimed by nobody. Returns whether the row was written.
 */
export async function writeAtEpoch(
	ctx: Ctx,
	accountId: string,
	epoch: number,
	write: (trx: Ctx) => Promise<void>
): Promise<boolean> {
	return ctx.db.transaction().execute(async (trx) => {
		const claimed = await trx
			.updateTable('accounts')
			.set((eb) => ({ session_epoch: eb.ref('session_epoch') }))
			.where('id', '=', accountId)
			.where('session_epoch', '=', epoch)
			.where('frozen_at', 'is', null)
			.executeTakeFirst();
		if (claimed.numUpdatedRows === 0n) return false;
		await write({ ...ctx, db: trx });
		return true;
	});
}

/**
 * Starts a session, unless a remedy ended the account's sessions since `epoch` was read (or froze
 * the account): then null, and nothing is written (`writeAtEpoch`).
 */
export async function createSession(
	ctx: Ctx,
	token: string,
	accountId: string,
	meta: { ip: string | null; ipCountry: string | null; userAgent: string | null },
	epoch: number
): Promise<Session | null> {
	const now = ctx.clock.now().getTime();
	const session = {
		id: sessionIdFromToken(token),
		account_id: accountId,
		created_at: now,
		last_active_at: now,
		expires_at: now + POLICY.absoluteMs,
		ip: meta.ip,
		ip_country: meta.ipCountry,
		user_agent: meta.userAgent?.slice(0, 300) ?? null
	};
	const written = await writeAtEpoch(ctx, accountId, epoch, async (trx) => {
		await trx.db.insertInto('sessions').values(session).execute();
	});
	return written ? toSession(session) : null;
}

function toSession(row: {
	id: string;
	account_id: string;
	created_at: number;
	last_active_at: number;
	expires_at: number;
}): Session {
	return {
		id: row.id,
		accountId: row.account_id,
		createdAt: new Date(row.created_at),
		expiresAt: expiresAt(POLICY, row)
	};
}

export async function validateSessionToken(
	ctx: Ctx,
	token: string
): Promise<SessionValidationResult> {
	const now = ctx.clock.now().getTime();
	const row = await ctx.db
		.selectFrom('sessions')
		.innerJoin('accounts', 'accounts.id', 'sessions.account_id')
		.selectAll('accounts')
		.select([
			'sessions.id as session_id',
			'sessions.created_at as session_created_at',
			'sessions.last_active_at as session_last_active_at',
			'sessions.expires_at as session_expires_at'
		])
		.where('sessions.id', '=', sessionIdFromToken(token))
		.executeTakeFirst();
	if (!row) return { session: null, account: null };
	const { session_id, session_created_at, session_last_active_at, session_expires_at, ...account } =
		row;
	const state = sessionState(
		POLICY,
		{ last_active_at: session_last_active_at, expires_at: session_expires_at },
		now
	);
	if (!state.live || account.status === 'disabled') {
		await invalidateSession(ctx, session_id);
		return { session: null, account: null };
	}
	if (state.touch)
		await ctx.db
			.updateTable('sessions')
			.set({ last_active_at: now })
			.where('id', '=', session_id)
			.execute();
	const session = {
		id: session_id,
		accountId: account.id,
		createdAt: new Date(session_created_at),
		expiresAt: state.expiresAt
	};
	return { session, account };
}

export async function invalidateSession(ctx: Ctx, sessionId: string): Promise<void> {
	const { db } = ctx;
	await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/**
 * R17, R18, R21, §7a: sign out every session of an account (but the current one, when given), and
 * end every pending sign-in (a right password still waiting for its second factor) with them, so
 * whatever ends sessions also stops a half-finished sign-in. First the account's credential epoch
 * moves on, in the caller's transaction: a sign-in that read the account before this ran (its
 * password checked, its pending row already claimed) can no longer write its session or pending
 * row (`writeAtEpoch`), and one that wrote it first is deleted here. The session kept loses its
 * re-authentication window (§7a, `sudo.ts`).
 */
export async function invalidateAccountSessions(
	ctx: Ctx,
	accountId: string,
	exceptSessionId?: string
): Promise<void> {
	const { db } = ctx;
	await db
		.updateTable('accounts')
		.set((eb) => ({ session_epoch: eb('session_epoch', '+', 1) }))
		.where('id', '=', accountId)
		.execute();
	let query = db.deleteFrom('sessions').where('account_id', '=', accountId);
	if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
	await query.execute();
	// §7a: the kept session (a password change) keeps no re-authentication window either.
	if (exceptSessionId)
		await db
			.updateTable('sessions')
			.set({ sudo_until: null })
			.where('id', '=', exceptSessionId)
			.execute();
	await db.deleteFrom('pending_sign_ins').where('account_id', '=', accountId).execute();
}
