import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { Cookies } from '@sveltejs/kit';
import type { Clock } from '../core/clock';
import type { Db } from '../db/database';
import type { Account } from '../db/schema';

/**
 * Buyer sessions after the Lucia guide: a 160-bit random token in an HttpOnly cookie, only its
 * SHA-256 in the database, plus an idle timeout and an absolute lifetime (which lucia v3 lacked).
 */
export const SESSION_IDLE_TIMEOUT_MS = 24 * 3_600_000;
export const SESSION_ABSOLUTE_LIFETIME_MS = 14 * 86_400_000;
// Writing last_active_at on every request would turn every page view into a write.
const ACTIVITY_GRANULARITY_MS = 60_000;

export interface Session {
	id: string;
	accountId: string;
	createdAt: Date;
	expiresAt: Date;
}

export type SessionValidationResult =
	| { session: Session; account: Account }
	| { session: null; account: null };

export function generateSessionToken(): string {
	const bytes = new Uint8Array(20);
	crypto.getRandomValues(bytes);
	return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdFromToken(token: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export async function createSession(
	deps: { db: Db; clock: Clock },
	token: string,
	accountId: string,
	meta: { ip: string | null; ipCountry: string | null; userAgent: string | null }
): Promise<Session> {
	const now = deps.clock.now().getTime();
	const session = {
		id: sessionIdFromToken(token),
		account_id: accountId,
		created_at: now,
		last_active_at: now,
		expires_at: now + SESSION_ABSOLUTE_LIFETIME_MS,
		ip: meta.ip,
		ip_country: meta.ipCountry,
		user_agent: meta.userAgent?.slice(0, 300) ?? null
	};
	await deps.db.insertInto('sessions').values(session).execute();
	return toSession(session);
}

function toSession(row: { id: string; account_id: string; created_at: number; last_active_at: number; expires_at: number }): Session {
	return {
		id: row.id,
		accountId: row.account_id,
		createdAt: new Date(row.created_at),
		expiresAt: new Date(Math.min(row.expires_at, row.last_active_at + SESSION_IDLE_TIMEOUT_MS))
	};
}

export async function validateSessionToken(deps: { db: Db; clock: Clock }, token: string): Promise<SessionValidationResult> {
	const now = deps.clock.now().getTime();
	const row = await deps.db
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
	const { session_id, session_created_at, session_last_active_at, session_expires_at, ...account } = row;
	const idleExpired = now >= session_last_active_at + SESSION_IDLE_TIMEOUT_MS;
	if (idleExpired || now >= session_expires_at || account.status === 'disabled') {
		await invalidateSession(deps.db, session_id);
		return { session: null, account: null };
	}
	let lastActive = session_last_active_at;
	if (now - session_last_active_at >= ACTIVITY_GRANULARITY_MS) {
		lastActive = now;
		await deps.db.updateTable('sessions').set({ last_active_at: now }).where('id', '=', session_id).execute();
	}
	const session = toSession({
		id: session_id,
		account_id: account.id,
		created_at: session_created_at,
		last_active_at: lastActive,
		expires_at: session_expires_at
	});
	return { session, account };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
	await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** R17, R18, R21: sign out every session of an account (but the current one, when given). */
export async function invalidateAccountSessions(db: Db, accountId: string, exceptSessionId?: string): Promise<void> {
	let query = db.deleteFrom('sessions').where('account_id', '=', accountId);
	if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
	await query.execute();
}

/** `__Host-` needs Secure; over plain http (development, tests) the cookie has a plain name. */
export function sessionCookieName(secure: boolean): string {
	return secure ? '__Host-session' : 'session';
}

export function setSessionTokenCookie(cookies: Cookies, token: string, expiresAt: Date, secure: boolean): void {
	cookies.set(sessionCookieName(secure), token, {
		httpOnly: true,
		sameSite: 'lax',
		secure,
		path: '/',
		expires: expiresAt
	});
}

export function deleteSessionTokenCookie(cookies: Cookies, secure: boolean): void {
	cookies.delete(sessionCookieName(secure), { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}
