import type { CheckReport } from '../../src/lib/types/check-report';

/** Report fixtures for every state the UI draws; shared by MSW handlers and component tests. */
export function reportFactory(overrides: Partial<CheckReport> = {}): CheckReport {
	return {
		identifier: { kind: 'email', masked: 'n***e@e***.com' },
		registered: false,
		status: null,
		verification: { pending: false },
		warnings: [],
		nextSteps: [{ action: 'register', href: '/register' }],
		tier: 'public',
		...overrides
	};
}

export const reports = {
	unregistered: reportFactory(),
	registered: reportFactory({
		identifier: { kind: 'email', masked: 'b***r@e***.com' },
		registered: true,
		status: 'active',
		nextSteps: [
			{ action: 'sign_in', href: '/login' },
			{ action: 'forgot_password', href: '/forgot-password' }
		]
	}),
	underReview: reportFactory({
		identifier: { kind: 'phone', masked: '+86 138****8000' },
		registered: true,
		status: 'under_review',
		nextSteps: [
			{ action: 'sign_in', href: '/login' },
			{ action: 'forgot_password', href: '/forgot-password' }
		]
	}),
	pendingCode: reportFactory({
		verification: { pending: true, purpose: 'register', expiresAt: '2026-11-26T12:05:00.000Z' }
	})
} satisfies Record<string, CheckReport>;
