import { json, type Cookies, type RequestEvent } from '@sveltejs/kit';
import type { Failure } from '../core/failures';
import { failureResponse } from './api-error';
import type { Account } from '../db/schema';
import { auditSignedIn } from '../accounts';
import { requestMeta } from '../core/request-meta';
import { createPendingSignIn, secondFactorMethods, type SecondFactorMethod } from '../two-step';
import { startSession } from './session-cookie';

/**
 * Two-step sign-in (issue 16): after the right password the browser holds only this HttpOnly
 * cookie, never a session; the pending row keeps only its hash. It lives as long as the pending
 * sign-in (5 minutes) and authenticates nothing but the second-factor step.
 */
const COOKIE = 'pending_sign_in';
const TOKEN = /^[a-z2-7]{32}$/;
const secure = (event: Pick<RequestEvent, 'url'>) => event.url.protocol === 'https:';

export function pendingSignInToken(cookies: Cookies): string | null {
	const token = cookies.get(COOKIE);
	return token && TOKEN.test(token) ? token : null;
}

export function forgetPendingSignIn(event: Pick<RequestEvent, 'cookies' | 'url'>): void {
	event.cookies.delete(COOKIE, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: secure(event)
	});
}

/**
 * What follows a right password: the session when two-step is off; otherwise a pending sign-in
 * and the methods that can finish it.
 */
export async function afterPassword(
	event: RequestEvent,
	account: Account
): Promise<{ session: true } | { session: false; methods: SecondFactorMethod[] }> {
	const { app } = event.locals;
	const methods = await secondFactorMethods(app, account.id);
	if (methods.length === 0) {
		await auditSignedIn(app, account, 'password', requestMeta(event));
		await startSession(event, account);
		return { session: true };
	}
	const pending = await createPendingSignIn(app, account.id);
	event.cookies.set(COOKIE, pending.token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: secure(event),
		expires: pending.expiresAt
	});
	return { session: false, methods };
}

/** The second factor passed: the session starts and the pending cookie has done its work. */
export async function finishSignIn(event: RequestEvent, account: Account): Promise<void> {
	forgetPendingSignIn(event);
	await startSession(event, account);
}

/** The API answer of a second step: the failure, or 201 and the session as `POST /api/v1/sessions`. */
export async function secondStepAnswer(
	event: RequestEvent,
	result: { ok: true; account: Account } | Failure
): Promise<Response> {
	if (!result.ok) return failureResponse(result);
	await finishSignIn(event, result.account);
	return json({ account: { status: result.account.status } }, { status: 201 });
}
