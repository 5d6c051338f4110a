import type { AccountStatus, ContactChange } from './check-report';

/** R19–R21: where an appeal stands. */
export type AppealStatus =
	| 'submitted'
	| 'in_review'
	| 'needs_info'
	| 'approved'
	| 'rejected'
	/** Stopped by the account's current holder (a cancel link or the signed-in owner), §8a. */
	| 'cancelled';

/** The appeal statuses still open: submitted and awaiting a decision (R19–R21). */
export const OPEN_APPEAL_STATUSES = [
	'submitted',
	'in_review',
	'needs_info'
] as const satisfies readonly AppealStatus[];

export const isOpenAppeal = (status: AppealStatus): boolean =>
	(OPEN_APPEAL_STATUSES as readonly AppealStatus[]).includes(status);

/** Rules §8a: a recovery of the account that its holder may still stop (docs/api.md). */
export interface PendingRecovery {
	reference: string;
	status: (typeof OPEN_APPEAL_STATUSES)[number] | 'approved';
	/** The contact the appeal would move the account to, masked. */
	newContact: string;
	/** When the rebind happens (approved, during the hold); null before a decision. */
	effectiveAt: string | null;
}

/** The owner's own view of the account (R13's verified tier grows from this in the check). */
export interface AccountSummary {
	status: AccountStatus;
	country: string;
	createdAt: string;
	contacts: { kind: 'email' | 'phone'; masked: string }[];
	flags: {
		code: 'under_review' | 'low_activity' | 'multiple_accounts_on_device' | 'ip_country_mismatch';
	}[];
	/** The last changes, resets and sign-ins, so an owner can spot what they did not do. */
	activity: { action: string; at: string; country: string | null; device: string | null }[];
	/** R16: used / remaining of 2 in 180 days and the next allowed date. */
	contactChange: ContactChange;
}
