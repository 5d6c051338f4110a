/** docs/api.md check report, as the browser and API clients see it. */
export type AccountStatus = 'active' | 'under_review' | 'disabled';
/**
 * The status the check reports: the stored one, or `frozen` while the owner's freeze (rules §7b)
 * holds. Not a stored status: `accounts.frozen_at` says it, whatever `accounts.status` is.
 */
export type ReportStatus = AccountStatus | 'frozen';
export type CodePurpose = 'register' | 'check' | 'contact_change' | 'password_reset' | 'appeal';

type WarningCode =
	| 'ip_country_mismatch'
	| 'low_activity'
	| 'multiple_accounts_on_device'
	| 'appeal_open'
	| 'under_review';

export interface Warning {
	code: WarningCode;
	message: string;
	/** ip_country_mismatch: the request's country, the only country the public tier names. */
	requestCountry?: string;
}

export type NextStep =
	| {
			action:
				| 'register'
				| 'continue_registration'
				| 'sign_in'
				| 'forgot_password'
				| 'change_contact'
				| 'appeal'
				| 'turn_on_two_step';
			href: string;
	  }
	| { action: 'wait'; until: string };

type Verification =
	| { pending: false; expiredUnused?: { purpose: CodePurpose; expiredAt: string } }
	| { pending: true; purpose: CodePurpose; expiresAt: string };

export interface ContactChange {
	used: number;
	limit: number;
	remaining: number;
	windowDays: number;
	minIntervalDays: number;
	nextAllowedAt: string | null;
}

export interface CheckReport {
	identifier: { kind: 'email' | 'phone'; masked: string };
	/** Absent (not null) when the disclosure mode hides it before proof (R15a). */
	registered?: boolean;
	status?: ReportStatus | null;
	verification?: Verification;
	contactChange?: ContactChange;
	contacts?: { kind: 'email' | 'phone'; masked: string }[];
	recentActivity?: { action: string; at: string; country: string | null }[];
	/** §7c, verified tier: two-step on (TOTP or a passkey), passkeys, live sessions. */
	security?: { twoStep: boolean; passkeys: number; activeSessions: number };
	/**
	 * Rules §8a, verified tier: a recovery (appeal) pending on the account, or null. `effectiveAt`
	 * is when an approved one moves the account (the end of its hold); before a decision it is null
	 * and `decisionDueAt` says when support answers. The owner can stop it until then.
	 */
	recovery?: { approved: boolean; effectiveAt: string | null; decisionDueAt: string } | null;
	warnings: Warning[];
	/**
	 * R9: the country of the network that asked, or null when it could not be told (private,
	 * loopback or unknown address), so no `ip_country_mismatch` could be found. About the asker,
	 * not the account: shown in every disclosure mode (R15a).
	 */
	networkCountry: string | null;
	nextSteps: NextStep[];
	tier: 'public' | 'verified';
	/** The server's clock when it answered: countdowns count from it, not the device's clock. */
	checkedAt: string;
}

export interface ApiError {
	code: string;
	message: string;
	fields?: Record<string, string>;
	retryAfterSeconds?: number;
	/** `rate_limited` from the check (R15): which limit refused it. */
	limit?: 'network' | 'identifier';
}
