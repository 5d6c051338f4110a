/**
 * One rule for buyer and agent sessions alike (after the Lucia guide): a session ends after
 * `idleMs` without a request or `absoluteMs` after it began, whichever comes first. Its activity
 * is written at most once a minute, so a page view is not a write.
 */
export interface SessionPolicy {
	idleMs: number;
	absoluteMs: number;
}

const ACTIVITY_GRANULARITY_MS = 60_000;

export type SessionState =
	{ live: false } | { live: true; touch: boolean; lastActiveAt: number; expiresAt: Date };

/** What a stored session is at `now`; `touch` says to write `lastActiveAt` back. */
export function sessionState(
	policy: SessionPolicy,
	row: { last_active_at: number; expires_at: number },
	now: number
): SessionState {
	if (now >= row.last_active_at + policy.idleMs || now >= row.expires_at) return { live: false };
	const touch = now - row.last_active_at >= ACTIVITY_GRANULARITY_MS;
	const lastActiveAt = touch ? now : row.last_active_at;
	return {
		live: true,
		touch,
		lastActiveAt,
		expiresAt: expiresAt(policy, { last_active_at: lastActiveAt, expires_at: row.expires_at })
	};
}

/** When a session ends if nothing more happens: the sooner of its idle and absolute limits. */
export function expiresAt(
	policy: SessionPolicy,
	row: { last_active_at: number; expires_at: number }
): Date {
	return new Date(Math.min(row.expires_at, row.last_active_at + policy.idleMs));
}
