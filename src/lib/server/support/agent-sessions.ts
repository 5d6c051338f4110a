import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { Cookies } from '@sveltejs/kit';
import type { Agent } from './agents';
import type { Clock } from '../core/clock';
import type { Db } from '../db/database';

/**
 * R22: agent sessions, the buyer-session design (Lucia guide) with shorter lifetimes — agents
 * can open identity documents — and a cookie that only travels to /support.
 */
export const AGENT_SESSION_IDLE_TIMEOUT_MS = 30 * 60_000;
export const AGENT_SESSION_ABSOLUTE_LIFETIME_MS = 8 * 3_600_000;
const ACTIVITY_GRANULARITY_MS = 60_000;
const COOKIE_PATH = '/support';

export interface AgentSession {
	id: string;
	agentId: string;
	expiresAt: Date;
}

export type AgentSessionValidation = { session: AgentSession; agent: Agent } | { session: null; agent: null };

export function generateAgentSessionToken(): string {
	const bytes = new Uint8Array(20);
	crypto.getRandomValues(bytes);
	return encodeBase32LowerCaseNoPadding(bytes);
}

function idFromToken(token: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export async function createAgentSession(deps: { db: Db; clock: Clock }, token: string, agentId: string, ip: string | null): Promise<AgentSession> {
	const now = deps.clock.now().getTime();
	const row = {
		id: idFromToken(token),
		agent_id: agentId,
		created_at: now,
		last_active_at: now,
		expires_at: now + AGENT_SESSION_ABSOLUTE_LIFETIME_MS,
		ip,
		// Sessions are created only after password and TOTP both passed.
		second_factor_verified: 1
	};
	await deps.db.insertInto('agent_sessions').values(row).execute();
	return { id: row.id, agentId, expiresAt: new Date(Math.min(row.expires_at, now + AGENT_SESSION_IDLE_TIMEOUT_MS)) };
}

export async function validateAgentSessionToken(deps: { db: Db; clock: Clock }, token: string): Promise<AgentSessionValidation> {
	const now = deps.clock.now().getTime();
	const row = await deps.db
		.selectFrom('agent_sessions')
		.innerJoin('agents', 'agents.id', 'agent_sessions.agent_id')
		.select([
			'agent_sessions.id as session_id',
			'agent_sessions.last_active_at',
			'agent_sessions.expires_at',
			'agent_sessions.second_factor_verified',
			'agents.id',
			'agents.username',
			'agents.role',
			'agents.disabled_at'
		])
		.where('agent_sessions.id', '=', idFromToken(token))
		.executeTakeFirst();
	if (!row) return { session: null, agent: null };
	if (
		now >= row.last_active_at + AGENT_SESSION_IDLE_TIMEOUT_MS ||
		now >= row.expires_at ||
		row.disabled_at !== null ||
		row.second_factor_verified !== 1
	) {
		await invalidateAgentSession(deps.db, row.session_id);
		return { session: null, agent: null };
	}
	let lastActive = row.last_active_at;
	if (now - lastActive >= ACTIVITY_GRANULARITY_MS) {
		lastActive = now;
		await deps.db.updateTable('agent_sessions').set({ last_active_at: now }).where('id', '=', row.session_id).execute();
	}
	return {
		session: { id: row.session_id, agentId: row.id, expiresAt: new Date(Math.min(row.expires_at, lastActive + AGENT_SESSION_IDLE_TIMEOUT_MS)) },
		agent: { id: row.id, username: row.username, role: row.role }
	};
}

export async function invalidateAgentSession(db: Db, sessionId: string): Promise<void> {
	await db.deleteFrom('agent_sessions').where('id', '=', sessionId).execute();
}

export function agentSessionCookieName(secure: boolean): string {
	return secure ? '__Secure-support_session' : 'support_session';
}

export function setAgentSessionCookie(cookies: Cookies, token: string, secure: boolean): void {
	// A session cookie (no expiry): closing the browser ends it; the server enforces the limits.
	cookies.set(agentSessionCookieName(secure), token, { httpOnly: true, sameSite: 'strict', secure, path: COOKIE_PATH });
}

export function deleteAgentSessionCookie(cookies: Cookies, secure: boolean): void {
	cookies.delete(agentSessionCookieName(secure), { httpOnly: true, sameSite: 'strict', secure, path: COOKIE_PATH });
}
