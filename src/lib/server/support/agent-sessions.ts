import type { Ctx } from '../core/context';
import { expiresAt, sessionState, type SessionPolicy } from '../core/session-policy';
import { hashToken, newToken } from '../core/tokens';
import type { Agent } from './agents';

/**
 * R22: agent sessions, the buyer-session design (Lucia guide) with shorter lifetimes — agents
 * can open identity documents. Its cookie (only sent to /support) is http/agent-session-cookie.ts.
 */
export const AGENT_SESSION_IDLE_TIMEOUT_MS = 30 * 60_000;
const AGENT_SESSION_ABSOLUTE_LIFETIME_MS = 8 * 3_600_000;
const POLICY: SessionPolicy = {
	idleMs: AGENT_SESSION_IDLE_TIMEOUT_MS,
	absoluteMs: AGENT_SESSION_ABSOLUTE_LIFETIME_MS
};

export interface AgentSession {
	id: string;
	agentId: string;
	expiresAt: Date;
}

export type AgentSessionValidation =
	{ session: AgentSession; agent: Agent } | { session: null; agent: null };

export const generateAgentSessionToken = newToken;

export async function createAgentSession(
	ctx: Ctx,
	token: string,
	agentId: string,
	ip: string | null
): Promise<AgentSession> {
	const now = ctx.clock.now().getTime();
	const row = {
		id: hashToken(token),
		agent_id: agentId,
		created_at: now,
		last_active_at: now,
		expires_at: now + POLICY.absoluteMs,
		ip,
		// Sessions are created only after password and TOTP both passed.
		second_factor_verified: 1
	};
	await ctx.db.insertInto('agent_sessions').values(row).execute();
	return { id: row.id, agentId, expiresAt: expiresAt(POLICY, row) };
}

export async function validateAgentSessionToken(
	ctx: Ctx,
	token: string
): Promise<AgentSessionValidation> {
	const now = ctx.clock.now().getTime();
	const row = await ctx.db
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
		.where('agent_sessions.id', '=', hashToken(token))
		.executeTakeFirst();
	if (!row) return { session: null, agent: null };
	const state = sessionState(POLICY, row, now);
	if (!state.live || row.disabled_at !== null || row.second_factor_verified !== 1) {
		await invalidateAgentSession(ctx, row.session_id);
		return { session: null, agent: null };
	}
	if (state.touch)
		await ctx.db
			.updateTable('agent_sessions')
			.set({ last_active_at: now })
			.where('id', '=', row.session_id)
			.execute();
	return {
		session: { id: row.session_id, agentId: row.id, expiresAt: state.expiresAt },
		agent: { id: row.id, username: row.username, role: row.role }
	};
}

export async function invalidateAgentSession(ctx: Ctx, sessionId: string): Promise<void> {
	const { db } = ctx;
	await db.deleteFrom('agent_sessions').where('id', '=', sessionId).execute();
}
