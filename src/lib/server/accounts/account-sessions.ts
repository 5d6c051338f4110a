import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failure, type Failure } from '../core/failures';
import { describeDevice, deviceLabel, type RequestMeta } from '../core/request-meta';
import type { Account } from '../db/schema';
import { SESSION_IDLE_TIMEOUT_MS, invalidateAccountSessions, invalidateSession } from './sessions';

/**
 * The owner's own sessions: listed, and signed out one by one or all but this one. A session is
 * named to the browser by an opaque id, a keyed hash of its row id (itself the token's SHA-256):
 * the id in a page or an API answer can neither sign anyone in nor be matched to the database.
 */
export interface SessionView {
	id: string;
	current: boolean;
	createdAt: string;
	lastSeenAt: string;
	country: string | null;
	device: string;
}

export type SessionMeta = RequestMeta & { sessionId: string | null };

const publicId = (ctx: Ctx, rowId: string) =>
	ctx.keys.hmac('session-public-id', rowId).slice(0, 32);

/** The account's live sessions (what validateSessionToken still accepts), most recent first. */
async function liveSessions(ctx: Ctx, accountId: string) {
	const now = ctx.clock.now().getTime();
	return ctx.db
		.selectFrom('sessions')
		.select(['id', 'created_at', 'last_active_at', 'ip_country', 'user_agent'])
		.where('account_id', '=', accountId)
		.where('expires_at', '>', now)
		.where('last_active_at', '>', now - SESSION_IDLE_TIMEOUT_MS)
		.orderBy('last_active_at', 'desc')
		.orderBy('created_at', 'desc')
		.execute();
}

export async function listAccountSessions(
	ctx: Ctx,
	account: Account,
	meta: { sessionId: string | null; locale: Locale }
): Promise<SessionView[]> {
	return (await liveSessions(ctx, account.id)).map((row) => ({
		id: publicId(ctx, row.id),
		current: row.id === meta.sessionId,
		createdAt: new Date(Number(row.created_at)).toISOString(),
		lastSeenAt: new Date(Number(row.last_active_at)).toISOString(),
		country: row.ip_country,
		device: describeDevice(row.user_agent, meta.locale)
	}));
}

/** Signs out one session of this account; an id of no session of this account is not found. */
export async function revokeAccountSession(
	ctx: Ctx,
	account: Account,
	id: string,
	meta: SessionMeta
): Promise<{ ok: true; current: boolean } | Failure> {
	const row = (await liveSessions(ctx, account.id)).find((s) => publicId(ctx, s.id) === id);
	if (!row) return failure(404, 'not_found', m.error_session_not_found());
	await invalidateSession(ctx, row.id);
	const current = row.id === meta.sessionId;
	await audit(ctx, {
		actorKind: 'account',
		actorId: account.id,
		action: 'session.revoked',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: {
			current,
			sessionCountry: row.ip_country,
			sessionDevice: deviceLabel(row.user_agent)
		}
	});
	return { ok: true, current };
}

/** Signs out every session of this account but the one making the request. */
export async function revokeOtherSessions(
	ctx: Ctx,
	account: Account,
	meta: SessionMeta
): Promise<{ ok: true; count: number }> {
	const others = (await liveSessions(ctx, account.id)).filter((s) => s.id !== meta.sessionId);
	await invalidateAccountSessions(ctx, account.id, meta.sessionId ?? undefined);
	await audit(ctx, {
		actorKind: 'account',
		actorId: account.id,
		action: 'session.revoked_others',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: { count: others.length }
	});
	return { ok: true, count: others.length };
}
