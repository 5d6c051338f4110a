import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { AppealStatus } from '$lib/types/account';

export const statusLabel: Record<AppealStatus, () => string> = {
	submitted: m.status_submitted,
	in_review: m.status_in_review,
	needs_info: m.status_needs_info,
	approved: m.status_approved,
	rejected: m.status_rejected,
	cancelled: m.status_cancelled
};

export const filterLabel = (f: string): string =>
	f === 'open'
		? m.support_filter_open()
		: f === 'mine'
			? m.support_filter_mine()
			: f === 'all'
				? m.support_filter_all()
				: (statusLabel[f as AppealStatus]?.() ?? f);

export const urgencyLabel = {
	overdue: m.support_overdue,
	due_soon: m.support_due_soon,
	on_time: m.support_on_time,
	decided: m.support_decided
} as const;

/** R20: the deadline's colour: late is danger, close is attention. */
export const urgencyBadge = {
	overdue: 'badge-danger',
	due_soon: 'badge-attention',
	on_time: 'badge-info',
	decided: 'badge-neutral'
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
