import { json, type Cookies, type RequestEvent } from '@sveltejs/kit';
import type { SignedIn } from '$lib/schemas/responses';
import { failures, type Failure } from '../core/failures';
import { failureResponse } from './api-error';
import type { Account } from '../db/schema';
import { auditSignedIn } from '../accounts';
import { requestMeta } from './request-meta';
import {
	createPendingSignIn,
	secondFactorMethods,
	type SecondFactorMethod,
	type SignInProof
} from '../two-step';
import { isSecure } from './secure';
import { startSession } from './session-cookie';

/**
 * Two-step sign-in (§7a): after the right password the browser holds only this HttpOnly
 * cookie, never a session; the pending row keeps only its hash. It lives as long as the pending
 * sign-in (5 minutes) and authenticates nothing but the second-factor step.
 */
const COOKIE = 'pending_sign_in';
const TOKEN = /^[a-z2-7]{32}$/;

export function pendingSignInToken(cookies: Cookies): string | null {
	const token = cookies.get(COOKIE);
	return token && TOKEN.test(token) ? token : null;
}

export function forgetPendingSignIn(event: Pick<RequestEvent, 'cookies' | 'url'>): void {
	event.cookies.delete(COOKIE, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: isSecure(event)
	});
}

/**
 * What follows a right password: the session when two-step is off; otherwise a pending sign-in
 * and the methods that can finish it. Both are written only at the credential epoch `signIn` read
 * with the account before the argon2 check (§7a); a remedy (password change or reset, "this wasn't
 * me", a freeze) that ran since ends this sign-in: `invalid_credentials`, the answer a retry with
 * the same password gets after a change or reset, so it tells nobody anything new.
 */
export async function afterPassword(
	event: RequestEvent,
	account: Account
): Promise<{ session: true } | { session: false; methods: SecondFactorMethod[] } | Failure> {
	const { app } = event.locals;
	const methods = await secondFactorMethods(app, account.id);
	if (methods.length === 0) {
		if (!(await startSession(event, account, account.session_epoch)))
			return failures.invalidCredentials();
		await auditSignedIn(app, account, 'password', requestMeta(event));
		return { session: true };
	}
	const pending = await createPendingSignIn(app, account.id, account.session_epoch);
	if (!pending) return failures.invalidCredentials();
	event.cookies.set(COOKIE, pending.token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: isSecure(event),
		expires: pending.expiresAt
	});
	return { session: false, methods };
}

/**
 * The second factor (or a passkey alone) passed: the session starts at the proof's epoch and the
 * pending cookie has done its work; the owner's activity records the sign-in once it has. The
 * proof's `ended` failure, and no record, when a remedy came in between.
 */
export async function finishSignIn(
	event: RequestEvent,
	proof: SignInProof
): Promise<Failure | null> {
	forgetPendingSignIn(event);
	if (!(await startSession(event, proof.account, proof.epoch))) return proof.ended;
	await auditSignedIn(event.locals.app, proof.account, proof.method, requestMeta(event));
	return null;
}

/** The API answer of a second step: the failure, or 201 and the session as `POST /api/v1/sessions`. */
export async function secondStepAnswer(
	event: RequestEvent,
	result: SignInProof | Failure
): Promise<Response> {
	if (!result.ok) return failureResponse(result);
	const ended = await finishSignIn(event, result);
	if (ended) return failureResponse(ended);
	return json({ account: { status: result.account.status } } satisfies SignedIn, { status: 201 });
}
