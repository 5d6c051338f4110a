import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { AppealStatus } from '$lib/types/account';

/** An appeal's status in staff words (the person's status page has its own wording). */
export const statusLabel: Record<AppealStatus, () => string> = {
	submitted: m.con_status_submitted,
	in_review: m.con_status_in_review,
	needs_info: m.con_status_needs_info,
	approved: m.con_status_approved,
	rejected: m.con_status_rejected,
	cancelled: m.con_status_cancelled
};

/** §8: who cancelled an appeal, as the sentence before the time it happened. */
export const cancelledLabel = (by: 'link' | 'owner' | null): string =>
	by === 'link'
		? m.con_cancelled_by_link()
		: by === 'owner'
			? m.con_cancelled_by_owner()
			: m.con_cancelled_at();

export const filterLabel = (f: string): string =>
	f === 'open'
		? m.support_filter_open()
		: f === 'mine'
			? m.support_filter_mine()
			: f === 'all'
				? m.support_filter_all()
				: f === 'held'
					? m.support_filter_held()
					: (statusLabel[f as AppealStatus]?.() ?? f);

export const urgencyLabel = {
	overdue: m.support_overdue,
	due_soon: m.support_due_soon,
	on_time: m.support_on_time,
	decided: m.support_decided,
	closed: m.support_closed
} as const;

/** R20: the deadline's colour: late is danger, close is attention. */
export const urgencyBadge = {
	overdue: 'badge-danger',
	due_soon: 'badge-attention',
	on_time: 'badge-info',
	decided: 'badge-neutral',
	closed: 'badge-neutral'
} as const;

export const roleLabel = { agent: m.con_role_agent, admin: m.con_role_admin } as const;

export const accountStatusLabel = {
	active: m.con_account_active,
	under_review: m.con_account_under_review,
	disabled: m.con_account_disabled
} as const;

/** The badge class for an account status: the design system's ok / attention / danger. */
export const accountStatusBadge = {
	active: 'badge-ok',
	under_review: 'badge-attention',
	disabled: 'badge-danger'
} as const;

/** "CN" → "China" / "中国", in the page's language. */
export function countryName(code: string | null): string {
	if (!code) return m.support_evidence_ip_unknown();
	try {
		return new Intl.DisplayNames([getLocale()], { type: 'region' }).of(code) ?? code;
	} catch {
		return code;
	}
}
