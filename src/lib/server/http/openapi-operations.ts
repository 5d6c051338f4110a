import { z } from 'zod';
import * as account from '$lib/schemas/account';
import { appealInput } from '$lib/schemas/appeal';
import * as check from '$lib/schemas/check';
import * as freeze from '$lib/schemas/freeze';
import * as recovery from '$lib/schemas/recovery';
import * as registration from '$lib/schemas/registration';
import * as out from '$lib/schemas/responses';
import * as twoStep from '$lib/schemas/two-step';

/**
 * Every `/api/v1` operation (docs/api.md): its input schema (the one the route parses with), its
 * answers (src/lib/schemas/responses.ts) and, by status, the stable error codes it can answer
 * besides the ones every endpoint shares (openapi.ts adds those). The contract test drives each.
 */
export interface Operation {
	method: 'get' | 'post' | 'patch' | 'delete';
	path: string;
	tag: Tag;
	summary: string;
	/** Who may call it: anyone, the signed-in owner (session cookie), or a bearer token. */
	auth?: 'session' | 'internalToken' | 'appealToken';
	/** A JSON body parsed with this schema. */
	body?: z.ZodType;
	/** A multipart body (the appeal): text fields of this schema, files beside them. */
	multipart?: z.ZodType;
	/** Successful answers by status; no schema means no body. */
	answers: Partial<Record<number, { description: string; schema?: z.ZodType }>>;
	errors: Partial<Record<number, readonly [string, ...string[]]>>;
	/** Reads nothing from the database itself: `503 unavailable` only from the hooks' session read. */
	answersWithoutDatabase?: true;
}

export const TAGS = {
	check: 'The security check (R12–R15a)',
	sessions: 'Registration and sessions (R3, R5, R6, R8–R10)',
	account: "The owner's account (R13, R16, R17, §7a–§7c, §8a, R28)",
	passwordReset: 'Forgot password (R18)',
	appeals: 'Appeals (R19–R21)',
	internal: 'Internal API (R11)',
	document: 'This document'
} as const;
type Tag = keyof typeof TAGS;

const CODE_STEP = ['code_invalid'] as const;
const PASSWORD = ['invalid_password', 'password_too_common', 'password_breached'] as const;
const R16 = ['change_too_soon', 'change_quota_exhausted'] as const;
/** R29: the answers of an endpoint that sends a code, when the code would go by SMS. */
const SMS_REFUSED = 'sms_country_not_supported';
const SMS_BUDGET = { 503: ['sms_unavailable'] } as const;
const withPassword = (op: string) => `${op}; the current password is asked again (§7a)`;

export const OPERATIONS: Operation[] = [
	{
		method: 'post',
		path: '/api/v1/check',
		tag: 'check',
		summary: 'Check an identifier (R12–R15a)',
		body: check.checkInput,
		answers: { 200: { description: 'The check report', schema: out.checkReport } },
		errors: { 400: ['invalid_identifier'], 429: ['rate_limited'] }
	},
	{
		method: 'post',
		path: '/api/v1/verifications',
		tag: 'check',
		summary: 'Send a check or appeal code (R6, R15a, R19)',
		body: check.verificationInput,
		answers: {
			202: {
				description: 'A code is on its way (same answer for any identifier)',
				schema: out.codeSent
			}
		},
		errors: { 400: ['invalid_identifier', SMS_REFUSED], 429: ['rate_limited'], ...SMS_BUDGET }
	},
	{
		method: 'post',
		path: '/api/v1/verifications/confirm',
		tag: 'check',
		summary: 'The verified check report, with a check code as proof (R15a)',
		body: check.verificationConfirmInput,
		answers: {
			200: {
				description: 'The verified report; sets the `check_grant` cookie',
				schema: out.checkReport
			}
		},
		errors: {
			400: ['invalid_identifier', ...CODE_STEP],
			410: ['code_expired'],
			429: ['too_many_attempts', 'rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/verifications/freeze',
		tag: 'check',
		summary: "Freeze an account with this browser's check grant (§7b)",
		body: freeze.verificationFreezeInput,
		answers: { 200: { description: 'Frozen', schema: out.frozen } },
		errors: {
			400: ['invalid_identifier'],
			403: ['verification_required'],
			404: ['account_not_found']
		}
	},
	{
		method: 'post',
		path: '/api/v1/registrations',
		tag: 'sessions',
		summary: 'Start a registration (R5, R8, R9)',
		body: registration.registrationInput,
		answers: {
			202: {
				description: 'A code is on its way; sets the `registration` cookie',
				schema: out.codeSent
			}
		},
		errors: {
			400: ['invalid_country', 'invalid_identifier', SMS_REFUSED, ...PASSWORD],
			409: ['identifier_taken'],
			429: ['rate_limited'],
			...SMS_BUDGET
		}
	},
	{
		method: 'post',
		path: '/api/v1/registrations/resend',
		tag: 'sessions',
		summary: 'A new registration code (R6)',
		body: registration.resendInput,
		answers: { 202: { description: 'A new code is on its way', schema: out.codeSent } },
		errors: {
			400: ['invalid_identifier', SMS_REFUSED, ...CODE_STEP],
			429: ['rate_limited'],
			...SMS_BUDGET
		}
	},
	{
		method: 'post',
		path: '/api/v1/registrations/confirm',
		tag: 'sessions',
		summary: 'Finish a registration: the account, signed in (R3, R8)',
		body: registration.registrationConfirmInput,
		answers: {
			201: { description: 'Created and signed in; sets the session cookie', schema: out.signedIn }
		},
		errors: {
			400: ['invalid_identifier', ...CODE_STEP],
			401: ['unauthenticated'],
			409: ['identifier_taken', 'registration_elsewhere'],
			410: ['code_expired'],
			429: ['too_many_attempts']
		}
	},
	{
		method: 'post',
		path: '/api/v1/sessions',
		tag: 'sessions',
		summary: 'Sign in with a password (R10, §7a)',
		body: registration.signInInput,
		answers: {
			201: { description: 'Signed in; sets the session cookie', schema: out.signedIn },
			202: {
				description: 'Two-step is on: sets only the `pending_sign_in` cookie',
				schema: out.secondFactorDue
			}
		},
		errors: {
			401: ['invalid_credentials'],
			403: ['account_frozen'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/sessions/second-factor',
		tag: 'sessions',
		summary: 'The second step: a TOTP or recovery code (§7a)',
		body: twoStep.secondFactorCodeInput,
		answers: { 201: { description: 'Signed in; sets the session cookie', schema: out.signedIn } },
		errors: {
			400: CODE_STEP,
			401: ['second_factor_expired'],
			403: ['account_frozen'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/sessions/passkey/options',
		tag: 'sessions',
		summary: 'WebAuthn request options for a passkey sign-in (§7a)',
		answers: {
			200: {
				description: 'PublicKeyCredentialRequestOptionsJSON',
				schema: out.passkeyRequestOptions
			}
		},
		errors: { 429: ['rate_limited'], 503: ['passkeys_unavailable'] }
	},
	{
		method: 'post',
		path: '/api/v1/sessions/passkey',
		tag: 'sessions',
		summary: 'Sign in (or finish the second step) with a passkey (§7a)',
		body: twoStep.passkeySignInInput,
		answers: { 201: { description: 'Signed in; sets the session cookie', schema: out.signedIn } },
		errors: {
			400: ['passkey_invalid'],
			401: ['second_factor_expired'],
			403: ['account_frozen'],
			503: ['passkeys_unavailable']
		}
	},
	{
		method: 'delete',
		path: '/api/v1/sessions/current',
		tag: 'sessions',
		summary: "Sign out this browser's session",
		answersWithoutDatabase: true,
		answers: { 204: { description: 'Signed out (always)' } },
		errors: {}
	},
	{
		method: 'get',
		path: '/api/v1/account',
		tag: 'account',
		auth: 'session',
		summary: "The owner's own view (R13, §8a)",
		answers: { 200: { description: "The owner's view", schema: out.accountView } },
		errors: {}
	},
	{
		method: 'post',
		path: '/api/v1/account/contact-changes',
		tag: 'account',
		auth: 'session',
		summary: withPassword('Start a contact change: a code to the new contact (R16)'),
		body: account.contactChangeInput,
		answers: {
			202: { description: 'A code is on its way to the new contact', schema: out.codeSent }
		},
		errors: {
			400: ['invalid_identifier', 'identifier_unchanged', SMS_REFUSED],
			403: ['account_frozen', 'invalid_credentials'],
			409: R16,
			429: ['rate_limited'],
			...SMS_BUDGET
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/contact-changes/resend',
		tag: 'account',
		auth: 'session',
		summary: 'A new code for the contact change already started (R6, R16)',
		body: account.contactChangeResendInput,
		answers: { 202: { description: 'A new code is on its way', schema: out.codeSent } },
		errors: {
			400: [SMS_REFUSED],
			403: ['account_frozen'],
			409: ['code_not_pending', ...R16],
			429: ['rate_limited'],
			...SMS_BUDGET
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/contact-changes/confirm',
		tag: 'account',
		auth: 'session',
		summary: 'Finish a contact change (R16, R17)',
		body: account.contactChangeConfirmInput,
		answers: { 200: { description: 'Changed; the quota after it', schema: out.contactChanged } },
		errors: {
			400: CODE_STEP,
			403: ['account_frozen'],
			409: [...R16, 'identifier_taken'],
			410: ['code_expired'],
			429: ['too_many_attempts']
		}
	},
	{
		method: 'get',
		path: '/api/v1/account/sessions',
		tag: 'account',
		auth: 'session',
		summary: "The owner's live sessions",
		answers: { 200: { description: 'Most recently active first', schema: out.sessionList } },
		errors: {}
	},
	{
		method: 'delete',
		path: '/api/v1/account/sessions',
		tag: 'account',
		auth: 'session',
		summary: 'Sign out every other session',
		answers: { 204: { description: 'Signed out' } },
		errors: {}
	},
	{
		method: 'delete',
		path: '/api/v1/account/sessions/{id}',
		tag: 'account',
		auth: 'session',
		summary: 'Sign out one session of the account',
		answers: { 204: { description: 'Signed out' } },
		errors: { 404: ['not_found'] }
	},
	{
		method: 'post',
		path: '/api/v1/account/password',
		tag: 'account',
		auth: 'session',
		summary: 'Change the password (R5)',
		body: account.passwordChangeInput,
		answers: { 204: { description: 'Changed; every other session signed out' } },
		errors: {
			400: [...PASSWORD, 'same_password'],
			401: ['invalid_credentials'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/freeze',
		tag: 'account',
		auth: 'session',
		summary: withPassword("The owner's freeze (§7b)"),
		body: freeze.accountFreezeInput,
		answers: { 200: { description: 'Frozen; this session ends too', schema: out.frozen } },
		errors: { 403: ['invalid_credentials'], 429: ['rate_limited'] }
	},
	{
		method: 'post',
		path: '/api/v1/account/recovery/cancel',
		tag: 'account',
		auth: 'session',
		summary: withPassword('Stop every pending recovery of the account (§8a, R24)'),
		body: recovery.recoveryCancelOwnerInput,
		answers: { 200: { description: 'Stopped', schema: out.recoveryCancelledByOwner } },
		errors: {
			403: ['invalid_credentials'],
			409: ['no_pending_recovery'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/export',
		tag: 'account',
		auth: 'session',
		summary: withPassword(
			'A copy of everything held about the account (R28); with an authenticator app on, `code` too'
		),
		body: account.accountExportInput,
		answers: {
			200: {
				description: 'The JSON file, `Content-Disposition: attachment`',
				schema: out.accountExport
			}
		},
		errors: {
			400: CODE_STEP,
			403: ['invalid_credentials', 'second_factor_required'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/deletion',
		tag: 'account',
		auth: 'session',
		summary: withPassword(
			'Delete the account in 14 days (R28): every session ends, every bound contact gets a link that keeps it'
		),
		body: account.accountDeletionInput,
		answers: { 202: { description: 'Scheduled', schema: out.deletionScheduled } },
		errors: { 403: ['invalid_credentials'], 429: ['rate_limited'] }
	},
	{
		method: 'delete',
		path: '/api/v1/account/deletion',
		tag: 'account',
		auth: 'session',
		summary: "Keep the account: cancel the owner's waiting deletion (R28)",
		answers: { 200: { description: 'Kept', schema: out.deletionCancelled } },
		errors: { 409: ['no_pending_deletion'] }
	},
	{
		method: 'post',
		path: '/api/v1/account/two-factor/totp',
		tag: 'account',
		auth: 'session',
		summary: withPassword('Start TOTP set-up (§7a)'),
		body: twoStep.totpStartInput,
		answers: { 200: { description: 'A new secret, shown once', schema: out.totpStarted } },
		errors: {
			403: ['account_frozen', 'invalid_credentials'],
			409: ['totp_already_on'],
			429: ['rate_limited']
		}
	},
	{
		method: 'delete',
		path: '/api/v1/account/two-factor/totp',
		tag: 'account',
		auth: 'session',
		summary: withPassword('Turn TOTP off, with a TOTP or recovery code (§7a)'),
		body: twoStep.totpDisableInput,
		answers: { 204: { description: 'Off; the recovery codes are deleted' } },
		errors: {
			400: CODE_STEP,
			403: ['account_frozen', 'invalid_credentials'],
			409: ['totp_not_on'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/account/two-factor/totp/confirm',
		tag: 'account',
		auth: 'session',
		summary: 'Confirm TOTP set-up with a code from the app (§7a)',
		body: twoStep.secondFactorCodeInput,
		answers: {
			201: { description: 'On; ten recovery codes, shown once', schema: out.recoveryCodes }
		},
		errors: { 400: CODE_STEP, 403: ['account_frozen'], 409: ['totp_setup_missing'] }
	},
	{
		method: 'post',
		path: '/api/v1/account/two-factor/passkeys/options',
		tag: 'account',
		auth: 'session',
		summary: withPassword('WebAuthn creation options for a new passkey (§7a)'),
		body: twoStep.passkeyOptionsInput,
		answers: {
			200: {
				description: 'PublicKeyCredentialCreationOptionsJSON',
				schema: out.passkeyCreationOptions
			}
		},
		errors: {
			403: ['account_frozen', 'invalid_credentials'],
			429: ['rate_limited'],
			503: ['passkeys_unavailable']
		}
	},
	{
		method: 'get',
		path: '/api/v1/account/two-factor/passkeys',
		tag: 'account',
		auth: 'session',
		summary: "The account's passkeys",
		answers: { 200: { description: 'No public keys', schema: out.passkeyList } },
		errors: {}
	},
	{
		method: 'post',
		path: '/api/v1/account/two-factor/passkeys',
		tag: 'account',
		auth: 'session',
		summary: 'Add a passkey (§7a)',
		body: twoStep.passkeyRegisterInput,
		answers: { 201: { description: 'Added', schema: out.passkeyAdded } },
		errors: { 400: ['passkey_invalid'], 403: ['account_frozen'], 503: ['passkeys_unavailable'] }
	},
	{
		method: 'patch',
		path: '/api/v1/account/two-factor/passkeys/{id}',
		tag: 'account',
		auth: 'session',
		summary: 'Rename a passkey',
		body: twoStep.passkeyRenameInput,
		answers: { 200: { description: 'Renamed', schema: out.passkeyRenamed } },
		errors: { 403: ['account_frozen'], 404: ['passkey_not_found'] }
	},
	{
		method: 'delete',
		path: '/api/v1/account/two-factor/passkeys/{id}',
		tag: 'account',
		auth: 'session',
		summary: withPassword('Remove a passkey (§7a)'),
		body: twoStep.passkeyRemoveInput,
		answers: { 204: { description: 'Removed' } },
		errors: {
			403: ['account_frozen', 'invalid_credentials'],
			404: ['passkey_not_found'],
			429: ['rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/secure-account',
		tag: 'account',
		summary: '"This wasn\'t me": secure the account with the alert\'s link (R25, §7a)',
		body: account.secureAccountInput,
		answers: { 200: { description: 'Secured; a reset code to the contact', schema: out.secured } },
		errors: { 400: ['link_invalid'], 410: ['link_expired'] }
	},
	{
		method: 'post',
		path: '/api/v1/recovery/cancel',
		tag: 'account',
		summary: "Stop a recovery with the cancel link's token (§8a, R24)",
		body: recovery.recoveryCancelLinkInput,
		answers: { 200: { description: 'Stopped', schema: out.recoveryCancelledByLink } },
		errors: { 400: ['link_invalid'], 410: ['link_expired'], 429: ['rate_limited'] }
	},
	{
		method: 'post',
		path: '/api/v1/deletion/cancel',
		tag: 'account',
		summary: "Keep the account with a deletion notice's link token (R28, R24)",
		body: account.deletionCancelLinkInput,
		answers: { 200: { description: 'Kept', schema: out.deletionCancelled } },
		errors: { 400: ['link_invalid'], 410: ['link_expired'], 429: ['rate_limited'] }
	},
	{
		method: 'post',
		path: '/api/v1/password-resets',
		tag: 'passwordReset',
		summary: 'Send a reset code (R18)',
		body: account.passwordResetInput,
		answers: {
			202: { description: 'The same for every identifier', schema: out.passwordResetRequested }
		},
		errors: { 400: ['invalid_identifier', SMS_REFUSED], 429: ['rate_limited'], ...SMS_BUDGET }
	},
	{
		method: 'post',
		path: '/api/v1/password-resets/confirm',
		tag: 'passwordReset',
		summary: 'Set a new password with a code or the reset link (R18, §7)',
		body: z.union([account.passwordResetConfirmInput, freeze.passwordResetLinkConfirmInput]),
		answers: { 204: { description: 'Set; every session revoked, a freeze lifted' } },
		errors: {
			400: ['invalid_identifier', ...CODE_STEP, 'link_invalid', ...PASSWORD],
			410: ['code_expired'],
			429: ['too_many_attempts', 'rate_limited']
		}
	},
	{
		method: 'post',
		path: '/api/v1/appeals',
		tag: 'appeals',
		summary: 'File an appeal with documents (R19, R23)',
		multipart: appealInput.extend({
			documents: z.array(z.file()).min(1).max(3).describe('JPEG, PNG or PDF, at most 5 MB each')
		}),
		answers: {
			201: { description: 'Filed; `statusToken` is shown only here', schema: out.appealFiled }
		},
		errors: {
			400: [
				'invalid_identifier',
				'same_identifier',
				'invalid_description',
				...CODE_STEP,
				'document_required',
				'too_many_documents',
				'invalid_document'
			],
			410: ['code_expired'],
			413: ['document_too_large'],
			429: ['rate_limited', 'too_many_attempts'],
			503: ['busy']
		}
	},
	{
		method: 'get',
		path: '/api/v1/appeals/{reference}',
		tag: 'appeals',
		auth: 'appealToken',
		summary: "An appeal's status (R19–R21)",
		answers: { 200: { description: 'The status and timeline', schema: out.appealView } },
		errors: { 404: ['appeal_not_found'], 429: ['rate_limited'] }
	},
	{
		method: 'post',
		path: '/api/v1/internal/accounts/first-order',
		tag: 'internal',
		auth: 'internalToken',
		summary: "The order system reports an account's first paid order (R11)",
		body: registration.firstOrderInput,
		answers: { 204: { description: 'Recorded (later reports change nothing)' } },
		errors: { 400: ['invalid_identifier'], 404: ['account_not_found'] }
	}
];
