import { z } from 'zod';

/**
 * What `/api/v1` answers (docs/api.md), as zod schemas: the OpenAPI document
 * (src/lib/server/http/openapi.ts) is generated from them and from the input schemas beside this
 * file, and the routes' answers are type-checked against them (`satisfies`), so the document and
 * the code cannot drift. Objects are strict: a member the document does not name fails the
 * contract test (tests/server/openapi-contract.test.ts).
 */

const instant = z.iso.datetime().describe('ISO 8601, UTC');
const masked = z.string().describe('masked as in R4');
const kind = z.enum(['email', 'phone']);
const contact = z.strictObject({ kind, masked });

const accountStatus = z.enum(['active', 'under_review', 'disabled']);
const codePurpose = z.enum(['register', 'check', 'contact_change', 'password_reset', 'appeal']);

/** R6: a code was sent (or one is live): when it expires, when a new one may be asked for. */
export const codeSent = z.strictObject({ expiresAt: instant, resendAfter: instant });

/** R16's quota. */
const contactChangeQuota = z.strictObject({
	used: z.int().min(0),
	limit: z.int().min(0),
	remaining: z.int().min(0),
	windowDays: z.int(),
	minIntervalDays: z.int(),
	nextAllowedAt: instant.nullable()
});

const nextStep = z.union([
	z.strictObject({
		action: z.enum([
			'register',
			'continue_registration',
			'sign_in',
			'forgot_password',
			'change_contact',
			'appeal',
			'turn_on_two_step'
		]),
		href: z.string()
	}),
	z.strictObject({ action: z.literal('wait'), until: instant })
]);

/** R12–R15a: the check report; members the viewer may not see are absent, never null. */
export const checkReport = z.strictObject({
	identifier: contact,
	registered: z.boolean().optional(),
	status: z.enum(['active', 'under_review', 'disabled', 'frozen']).nullable().optional(),
	verification: z
		.union([
			z.strictObject({
				pending: z.literal(false),
				expiredUnused: z.strictObject({ purpose: codePurpose, expiredAt: instant }).optional()
			}),
			z.strictObject({ pending: z.literal(true), purpose: codePurpose, expiresAt: instant })
		])
		.optional(),
	contactChange: contactChangeQuota.optional(),
	contacts: z.array(contact).optional(),
	recentActivity: z
		.array(z.strictObject({ action: z.string(), at: instant, country: z.string().nullable() }))
		.optional(),
	security: z
		.strictObject({ twoStep: z.boolean(), passkeys: z.int(), activeSessions: z.int() })
		.optional(),
	recovery: z
		.strictObject({
			approved: z.boolean(),
			effectiveAt: instant.nullable(),
			decisionDueAt: instant
		})
		.nullable()
		.optional(),
	warnings: z.array(
		z.strictObject({
			code: z.enum([
				'ip_country_mismatch',
				'low_activity',
				'multiple_accounts_on_device',
				'appeal_open',
				'under_review'
			]),
			message: z.string(),
			requestCountry: z.string().optional()
		})
	),
	/** R9: the asking network's country, or null when it could not be told (then nothing was compared). */
	networkCountry: z.string().nullable(),
	nextSteps: z.array(nextStep),
	tier: z.enum(['public', 'verified']),
	checkedAt: instant
});

/** §8a (R23): the recovery the owner may still stop. */
const pendingRecovery = z.strictObject({
	reference: z.string(),
	status: z.enum(['submitted', 'in_review', 'needs_info', 'approved']),
	newContact: masked,
	effectiveAt: instant.nullable()
});

/** The owner's own view (GET /api/v1/account). */
export const accountView = z.strictObject({
	status: accountStatus,
	country: z.string(),
	createdAt: instant,
	contacts: z.array(contact),
	flags: z.array(
		z.strictObject({
			code: z.enum([
				'under_review',
				'low_activity',
				'multiple_accounts_on_device',
				'ip_country_mismatch'
			])
		})
	),
	activity: z.array(
		z.strictObject({
			action: z.string(),
			at: instant,
			country: z.string().nullable(),
			device: z.string().nullable()
		})
	),
	contactChange: contactChangeQuota,
	pendingRecovery: pendingRecovery.nullable(),
	/** R28: when the deletion the owner asked for takes effect; null when none waits. */
	deletionDueAt: instant.nullable()
});

/** A session was started (the session cookie is set). */
export const signedIn = z.strictObject({
	account: z.strictObject({ status: accountStatus })
});
/** §7a: the password was right, a second step is due (only the `pending_sign_in` cookie is set). */
export const secondFactorDue = z.strictObject({
	secondFactor: z.strictObject({
		methods: z.array(z.enum(['totp', 'recovery_code', 'passkey']))
	})
});

export const frozen = z.strictObject({ status: z.literal('frozen') });
export const contactChanged = z.strictObject({ contactChange: contactChangeQuota });
export const sessionList = z.strictObject({
	sessions: z.array(
		z.strictObject({
			id: z.string(),
			current: z.boolean(),
			createdAt: instant,
			lastSeenAt: instant,
			country: z.string().nullable(),
			device: z.string()
		})
	)
});
export const secured = z.strictObject({ contact: masked, resetCodeSent: z.boolean() });
export const recoveryCancelledByOwner = z.strictObject({
	status: z.literal('cancelled'),
	cancelled: z.int().min(0)
});
export const recoveryCancelledByLink = z.strictObject({ status: z.literal('cancelled') });
/** R28: the deletion waits until `effectiveAt` (14 days); asking again answers the same time. */
export const deletionScheduled = z.strictObject({
	status: z.literal('scheduled'),
	effectiveAt: instant
});
/** R28: the waiting deletion was cancelled; the account stays. */
export const deletionCancelled = z.strictObject({ status: z.literal('kept') });

const when = instant.nullable();
/** R28: the owner's copy of everything held about the account (data-rights/export.ts). */
export const accountExport = z.strictObject({
	format: z.literal('account-security-check.export'),
	version: z.literal(1),
	exportedAt: instant,
	account: z.strictObject({
		id: z.string(),
		email: z.string().nullable(),
		phone: z.string().nullable(),
		status: z.string(),
		country: z.string(),
		language: z.string(),
		createdAt: when,
		registrationNetworkCountry: z.string().nullable(),
		firstOrderAt: when,
		passwordChangedAt: when,
		frozenAt: when,
		deletionDueAt: when
	}),
	twoStep: z.strictObject({
		authenticatorApp: z.boolean(),
		recoveryCodesLeft: z.number().int(),
		passkeys: z.array(z.strictObject({ name: z.string(), createdAt: when, lastUsedAt: when }))
	}),
	devices: z.array(z.strictObject({ firstSeenAt: when, lastSeenAt: when })),
	sessions: z.array(
		z.strictObject({
			startedAt: when,
			lastActiveAt: when,
			expiresAt: when,
			ip: z.string().nullable(),
			networkCountry: z.string().nullable(),
			userAgent: z.string().nullable()
		})
	),
	securityEvents: z.array(
		z.strictObject({
			at: when,
			action: z.string(),
			by: z.string(),
			ip: z.string().nullable(),
			details: z.record(z.string(), z.unknown())
		})
	),
	contactChanges: z.array(
		z.strictObject({ at: when, how: z.string(), from: z.string(), to: z.string() })
	),
	appeals: z.array(
		z.strictObject({
			reference: z.string(),
			status: z.string(),
			lostContact: z.string(),
			newContact: z.string(),
			filedFromNetworkCountry: z.string().nullable(),
			filedAt: when,
			decidedAt: when,
			rebindDueAt: when,
			reboundAt: when,
			cancelledAt: when,
			cancelledBy: z.string().nullable()
		})
	),
	messagesSent: z.array(
		z.strictObject({
			to: z.string(),
			channel: z.string(),
			purpose: z.string(),
			status: z.string(),
			queuedAt: when,
			sentAt: when
		})
	),
	checksOfYourContacts: z.array(z.strictObject({ at: when, outcome: z.string() }))
});
export const passwordResetRequested = z.strictObject({});

export const totpStarted = z.strictObject({ secret: z.string(), otpauthUri: z.string() });
export const recoveryCodes = z.strictObject({ recoveryCodes: z.array(z.string()) });
const passkey = z.strictObject({
	id: z.string(),
	name: z.string(),
	createdAt: instant,
	lastUsedAt: instant.nullable()
});
export const passkeyAdded = z.strictObject({ passkey });
export const passkeyList = z.strictObject({ passkeys: z.array(passkey) });
export const passkeyRenamed = z.strictObject({ passkey: passkey.pick({ id: true, name: true }) });
/**
 * WebAuthn options as @simplewebauthn/server makes them (W3C WebAuthn L3 `…OptionsJSON`); only the
 * members a client needs to start are named, the rest passes through to the browser's API.
 */
export const passkeyCreationOptions = z.looseObject({
	challenge: z.string(),
	rp: z.looseObject({ name: z.string(), id: z.string().optional() }),
	user: z.looseObject({ id: z.string(), name: z.string(), displayName: z.string() }),
	pubKeyCredParams: z.array(z.looseObject({ type: z.literal('public-key'), alg: z.int() }))
});
export const passkeyRequestOptions = z.looseObject({
	challenge: z.string(),
	rpId: z.string().optional(),
	allowCredentials: z.array(z.looseObject({ id: z.string(), type: z.literal('public-key') }))
});

export const appealFiled = z.strictObject({
	reference: z.string(),
	// R19: the status code, 16 Crockford base32 characters in four groups (80 random bits).
	statusToken: z
		.string()
		.regex(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/)
		.meta({ example: '7KQ2-M9XD-4FHT-0WPA' }),
	dueAt: instant
});
export const appealView = z.strictObject({
	reference: z.string(),
	status: z.enum(['submitted', 'in_review', 'needs_info', 'approved', 'rejected', 'cancelled']),
	createdAt: instant,
	dueAt: instant,
	effectiveAt: instant.nullable(),
	messages: z.array(
		z.strictObject({ from: z.enum(['support', 'you']), body: z.string(), createdAt: instant })
	),
	timeline: z.array(
		z.strictObject({ event: z.string(), at: instant, upcoming: z.literal(true).optional() })
	)
});

/**
 * Every `/api/v1` error (docs/api.md §2), for the given stable codes. `retryAfter` comes with a
 * `Retry-After` header of the same seconds; `nextAllowedAt` with R16's refusals; `attemptsLeft`
 * with a wrong try on a live code (R6); `limit` with the check's refusal (R15); `alternative`
 * with R29's `sms_unavailable` (use an email address instead).
 */
export const apiErrorBody = (codes: readonly [string, ...string[]]) =>
	z.strictObject({
		error: z.strictObject({
			code: z.enum(codes),
			message: z.string(),
			fields: z.record(z.string(), z.string()).optional(),
			retryAfter: z.int().min(1).optional(),
			nextAllowedAt: instant.optional(),
			attemptsLeft: z.int().min(0).optional(),
			limit: z.enum(['network', 'identifier']).optional(),
			alternative: z.literal('email').optional()
		})
	});

/** What the routes answer, checked with `satisfies` where they build it (no second copy). */
export type CodeSent = z.input<typeof codeSent>;
export type CheckReportBody = z.input<typeof checkReport>;
export type SignedIn = z.input<typeof signedIn>;
export type SecondFactorDue = z.input<typeof secondFactorDue>;
export type AccountView = z.input<typeof accountView>;
export type Frozen = z.input<typeof frozen>;
export type ContactChanged = z.input<typeof contactChanged>;
export type SessionList = z.input<typeof sessionList>;
export type Secured = z.input<typeof secured>;
export type RecoveryCancelledByOwner = z.input<typeof recoveryCancelledByOwner>;
export type RecoveryCancelledByLink = z.input<typeof recoveryCancelledByLink>;
export type DeletionScheduled = z.input<typeof deletionScheduled>;
export type DeletionCancelled = z.input<typeof deletionCancelled>;
export type AccountExportFile = z.input<typeof accountExport>;
export type TotpStarted = z.input<typeof totpStarted>;
export type RecoveryCodes = z.input<typeof recoveryCodes>;
export type PasskeyAdded = z.input<typeof passkeyAdded>;
export type PasskeyList = z.input<typeof passkeyList>;
export type PasskeyRenamed = z.input<typeof passkeyRenamed>;
export type AppealFiled = z.input<typeof appealFiled>;
export type AppealView = z.input<typeof appealView>;
