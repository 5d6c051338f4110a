/**
 * support/ — the support console's people and tools (R22): agents and admins, their sessions
 * and TOTP, the account view with its audit trail, risk review of flagged accounts (R9, R10),
 * and the audit log reader. Imported only through this file.
 */

export { accountForAgent, lookupAccount } from './account-view';
export {
	AGENT_SESSION_IDLE_TIMEOUT_MS,
	createAgentSession,
	generateAgentSessionToken,
	invalidateAgentSession,
	validateAgentSessionToken
} from './agent-sessions';
export type { AgentSessionValidation } from './agent-sessions';
export { signInAgent } from './agents';
export type { Agent, Role } from './agents';
export { listAuditEvents } from './audit-log';
export { decideReview } from './risk-review';
export type { ReviewDecision } from './risk-review';
