/** SPEC §10 check report, as the browser and API clients see it. */
export type AccountStatus = 'active' | 'under_review' | 'disabled';
export type CodePurpose = 'register' | 'check' | 'contact_change' | 'password_reset' | 'appeal';

export type NextStep = { action: 'register' | 'sign_in' | 'forgot_password'; href: string };

export interface CheckReport {
	identifier: { kind: 'email' | 'phone'; masked: string };
	registered: boolean;
	status: AccountStatus | null;
	/** R13: a code pending right now for this identifier, and for what. */
	verification: { pending: false } | { pending: true; purpose: CodePurpose; expiresAt: string };
	nextSteps: NextStep[];
	tier: 'public' | 'verified';
}

export interface ApiError {
	code: string;
	message: string;
	fields?: Record<string, string>;
}
