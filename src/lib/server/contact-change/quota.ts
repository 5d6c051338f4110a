import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import { formatInstant } from '$lib/format/time';
import type { ContactChange } from '$lib/types/check-report';
import type { Ctx } from '../core/context';
import { failure, type Failure } from '../core/failures';

/**
 * R16: at least 7 days between two contact changes and at most 2 in any rolling 180 days.
 * R21: appeal changes count toward the window (they are in the same history) but are not blocked.
 */
const CONTACT_CHANGE_LIMIT = 2;
const CONTACT_CHANGE_WINDOW_DAYS = 180;
const CONTACT_CHANGE_MIN_INTERVAL_DAYS = 7;
const DAY_MS = 86_400_000;
const WINDOW_MS = CONTACT_CHANGE_WINDOW_DAYS * DAY_MS;
const MIN_INTERVAL_MS = CONTACT_CHANGE_MIN_INTERVAL_DAYS * DAY_MS;

export interface ContactChangeQuota {
	used: number;
	limit: number;
	remaining: number;
	windowDays: number;
	minIntervalDays: number;
	/** The earliest instant the next change is allowed, or null when it is allowed now. */
	nextAllowedAt: Date | null;
	/** Why a change is refused right now. */
	blockedBy: 'change_too_soon' | 'change_quota_exhausted' | null;
}

/** `changedAt`: instants (ms) of the account's past changes, any order. */
export function contactChangeQuota(changedAt: number[], now: Date): ContactChangeQuota {
	const t = now.getTime();
	// A change at c counts while t < c + 180 d.
	const inWindow = changedAt.filter((c) => c <= t && t < c + WINDOW_MS).sort((a, b) => a - b);
	const used = inWindow.length;
	const last = changedAt.length ? Math.max(...changedAt) : null;
	const tooSoonUntil = last !== null && t < last + MIN_INTERVAL_MS ? last + MIN_INTERVAL_MS : null;
	// With the quota used, a change is allowed again when enough old ones leave the window.
	const exhaustedUntil =
		used >= CONTACT_CHANGE_LIMIT ? inWindow[used - CONTACT_CHANGE_LIMIT]! + WINDOW_MS : null;
	const next = Math.max(tooSoonUntil ?? 0, exhaustedUntil ?? 0);
	return {
		used,
		limit: CONTACT_CHANGE_LIMIT,
		remaining: Math.max(0, CONTACT_CHANGE_LIMIT - used),
		windowDays: CONTACT_CHANGE_WINDOW_DAYS,
		minIntervalDays: CONTACT_CHANGE_MIN_INTERVAL_DAYS,
		nextAllowedAt: next > 0 ? new Date(next) : null,
		blockedBy:
			exhaustedUntil !== null
				? 'change_quota_exhausted'
				: tooSoonUntil !== null
					? 'change_too_soon'
					: null
	};
}

/** R16 as the report and the owner see it. */
export function quotaView(q: ContactChangeQuota): ContactChange {
	return {
		used: q.used,
		limit: q.limit,
		remaining: q.remaining,
		windowDays: q.windowDays,
		minIntervalDays: q.minIntervalDays,
		nextAllowedAt: q.nextAllowedAt?.toISOString() ?? null
	};
}

export async function readQuota(ctx: Ctx, accountId: string): Promise<ContactChangeQuota> {
	const { db } = ctx;
	const rows = await db
		.selectFrom('contact_changes')
		.select('changed_at')
		.where('account_id', '=', accountId)
		.execute();
	return contactChangeQuota(
		rows.map((r) => r.changed_at),
		ctx.clock.now()
	);
}

/**
 * R16 refused: 409 with the date the next change is allowed — ISO in `nextAllowedAt` for programs,
 * and in the message in the request's language and in UTC, named as such (the server does not
 * know the reader's zone; the pages show the same instant in it once the browser renders).
 */
export function quotaRefusal(q: ContactChangeQuota): Failure | null {
	if (!q.blockedBy || !q.nextAllowedAt) return null;
	const nextAllowedAt = q.nextAllowedAt.toISOString();
	const date = formatInstant(nextAllowedAt, { locale: getLocale(), timeZone: 'UTC' });
	return failure(
		409,
		q.blockedBy,
		q.blockedBy === 'change_too_soon'
			? m.error_change_too_soon({ date })
			: m.error_change_quota_exhausted({ date }),
		{ extra: { nextAllowedAt } }
	);
}
