import { m } from '$lib/paraglide/messages';
import type { AppealStatus } from '$lib/types/account';

export const statusLabel: Record<AppealStatus, () => string> = {
	submitted: m.status_submitted,
	in_review: m.status_in_review,
	needs_info: m.status_needs_info,
	approved: m.status_approved,
	rejected: m.status_rejected
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
