import type { CheckReport, Warning } from '../../src/lib/types/check-report';

/** Report fixtures for every state the UI draws; shared by MSW handlers and component tests. */
export function reportFactory(overrides: Partial<CheckReport> = {}): CheckReport {
	return {
		identifier: { kind: 'email', masked: 'n***e@e***.com' },
		registered: false,
		status: null,
		verification: { pending: false },
		warnings: [],
		networkCountry: 'CN',
		nextSteps: [{ action: 'register', href: '/register' }],
		tier: 'public',
		checkedAt: '2026-11-26T12:00:00.000Z',
		...overrides
	};
}

const registeredSteps: CheckReport['nextSteps'] = [
	{ action: 'sign_in', href: '/login' },
	{ action: 'forgot_password', href: '/forgot-password' },
	{ action: 'appeal', href: '/appeal' }
];
const warning = (
	code: Warning['code'],
	message: string,
	extra: Partial<Warning> = {}
): Warning => ({ code, message, ...extra });
const registered = (overrides: Partial<CheckReport> = {}) =>
	reportFactory({
		identifier: { kind: 'email', masked: 'b***r@e***.com' },
		registered: true,
		status: 'active',
		nextSteps: registeredSteps,
		...overrides
	});

export const reports = {
	unregistered: reportFactory(),
	registered: registered(),
	underReview: registered({
		identifier: { kind: 'phone', masked: '+86 138****8000' },
		status: 'under_review',
		warnings: [
			warning(
				'under_review',
				'This account is under a risk review because it was registered from a network in another country.'
			)
		]
	}),
	disabled: registered({ status: 'disabled', nextSteps: [{ action: 'appeal', href: '/appeal' }] }),
	pendingCode: reportFactory({
		verification: { pending: true, purpose: 'register', expiresAt: '2026-11-26T12:05:00.000Z' },
		nextSteps: [{ action: 'continue_registration', href: '/register' }]
	}),
	expiredCode: reportFactory({
		verification: {
			pending: false,
			expiredUnused: { purpose: 'register', expiredAt: '2026-11-26T11:55:00.000Z' }
		}
	}),
	ipMismatch: registered({
		networkCountry: 'US',
		warnings: [
			warning(
				'ip_country_mismatch',
				'Your network appears to be in US, which is not the country of this account.',
				{ requestCountry: 'US' }
			)
		]
	}),
	lowActivity: registered({
		tier: 'verified',
		contactChange: {
			used: 0,
			limit: 2,
			remaining: 2,
			windowDays: 180,
			minIntervalDays: 7,
			nextAllowedAt: null
		},
		warnings: [
			warning(
				'low_activity',
				'No first paid order within 72 hours of registering: the account is marked low-activity.'
			)
		],
		nextSteps: [
			...registeredSteps.slice(0, 2),
			{ action: 'change_contact', href: '/account/contact' },
			registeredSteps[2]!
		]
	}),
	quotaUsedUp: registered({
		tier: 'verified',
		contactChange: {
			used: 2,
			limit: 2,
			remaining: 0,
			windowDays: 180,
			minIntervalDays: 7,
			nextAllowedAt: '2027-03-01T00:00:00.000Z'
		},
		contacts: [{ kind: 'email', masked: 'b***r@e***.com' }],
		nextSteps: [
			...registeredSteps.slice(0, 2),
			{ action: 'wait', until: '2027-03-01T00:00:00.000Z' },
			registeredSteps[2]!
		]
	}),
	quotaOneLeft: registered({
		tier: 'verified',
		contactChange: {
			used: 1,
			limit: 2,
			remaining: 1,
			windowDays: 180,
			minIntervalDays: 7,
			nextAllowedAt: null
		}
	}),
	appealOpen: registered({
		tier: 'verified',
		warnings: [
			warning(
				'appeal_open',
				'An appeal for this account is open. Support answers within 48 hours of submission.'
			)
		]
	}),
	/** R15a/§7c: the verified tier's security, two-step off: the turn-on step is offered. */
	twoStepOff: registered({
		tier: 'verified',
		security: { twoStep: false, passkeys: 0, activeSessions: 2 },
		nextSteps: [
			...registeredSteps,
			{ action: 'turn_on_two_step', href: '/account/security/two-step' }
		]
	}),
	twoStepOn: registered({
		tier: 'verified',
		security: { twoStep: true, passkeys: 1, activeSessions: 1 }
	}),
	multipleAccounts: registered({
		warnings: [
			warning('multiple_accounts_on_device', 'Several accounts were registered from this device.')
		]
	}),
	/** R9: an email not registered, asked from a network in another country than the intended one. */
	ipMismatchUnregistered: reportFactory({
		networkCountry: 'US',
		warnings: [
			warning(
				'ip_country_mismatch',
				'Your network appears to be in United States, not the country you intend to use.',
				{ requestCountry: 'US' }
			)
		]
	}),
	/** R9: the asking network's country could not be told, so nothing was compared. */
	networkUnknown: reportFactory({ networkCountry: null }),
	/** R13: a phone number not registered: the copy speaks of a number, not an email. */
	unregisteredPhone: reportFactory({
		identifier: { kind: 'phone', masked: '+86 139****0000' }
	}),
	hidden: {
		identifier: { kind: 'email', masked: 's***t@e***.com' },
		warnings: [],
		networkCountry: 'CN',
		nextSteps: [],
		tier: 'public',
		checkedAt: '2026-11-26T12:00:00.000Z'
	} satisfies CheckReport
} satisfies Record<string, CheckReport>;

export type ReportState = keyof typeof reports;
