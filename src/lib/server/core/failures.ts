import { m } from '$lib/paraglide/messages';
import { identifierProblemMessage, type IdentifierProblem } from './identifiers';

/**
 * The failures every flow can answer with: a stable code for machines and tests, an HTTP status,
 * and a message in the request's language (docs/api.md). Form actions and /api/v1 both render these.
 */
export interface Failure {
	ok: false;
	status: number;
	code: string;
	message: string;
	/** The form field the failure belongs to, for `aria-describedby`. */
	field?: string;
	retryAfterSeconds?: number;
	/** Extra members of the error body (e.g. `nextAllowedAt`). */
	extra?: Record<string, unknown>;
}

export function failure(
	status: number,
	code: string,
	message: string,
	more: Partial<Pick<Failure, 'field' | 'retryAfterSeconds' | 'extra'>> = {}
): Failure {
	return { ok: false, status, code, message, ...more };
}

export const failures = {
	invalidIdentifier: (problem: IdentifierProblem, field = 'identifier') =>
		failure(400, 'invalid_identifier', identifierProblemMessage(problem), { field }),
	invalidCountry: () =>
		failure(400, 'invalid_country', m.error_invalid_country(), { field: 'country' }),
	identifierTaken: () =>
		failure(409, 'identifier_taken', m.error_identifier_taken(), { field: 'identifier' }),
	/** `attemptsLeft` (R6, per code) goes out as a member of the error, so the step can warn. */
	code: (reason: 'code_invalid' | 'code_expired' | 'too_many_attempts', attemptsLeft?: number) =>
		reason === 'code_expired'
			? failure(410, 'code_expired', m.error_code_expired(), { field: 'code' })
			: reason === 'too_many_attempts'
				? failure(429, 'too_many_attempts', m.error_too_many_attempts(), { field: 'code' })
				: failure(400, 'code_invalid', m.error_code_invalid(), {
						field: 'code',
						...(attemptsLeft === undefined ? {} : { extra: { attemptsLeft } })
					}),
	codeFormat: () => failure(400, 'code_invalid', m.error_code_format(), { field: 'code' }),
	rateLimited: (retryAfterSeconds: number) =>
		failure(429, 'rate_limited', m.error_rate_limited({ seconds: retryAfterSeconds }), {
			retryAfterSeconds
		}),
	resendTooSoon: (retryAfterSeconds: number) =>
		failure(429, 'rate_limited', m.error_resend_too_soon({ seconds: retryAfterSeconds }), {
			retryAfterSeconds,
			field: 'code'
		}),
	/** R29: no SMS to this number (its country, or a premium-rate or shared-cost number). */
	smsCountryNotSupported: (field = 'identifier') =>
		failure(400, 'sms_country_not_supported', m.error_sms_country_not_supported(), { field }),
	/** R29: today's SMS budget is spent; the answer offers email instead. */
	smsUnavailable: () =>
		failure(503, 'sms_unavailable', m.error_sms_unavailable(), { extra: { alternative: 'email' } }),
	invalidCredentials: () => failure(401, 'invalid_credentials', m.error_invalid_credentials()),
	unauthenticated: () => failure(401, 'unauthenticated', m.error_unauthenticated()),
	/** §7b: the owner froze the account; only a password reset to a bound contact (or an agent) lifts it. */
	accountFrozen: () => failure(403, 'account_frozen', m.error_account_frozen())
};

export function secondsUntil(instant: Date, now: Date): number {
	return Math.max(1, Math.ceil((instant.getTime() - now.getTime()) / 1000));
}
