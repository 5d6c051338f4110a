import type { Cookies } from '@sveltejs/kit';
import { newToken } from '../core/tokens';

/**
 * R3/R6: a pending registration belongs to the browser that started it. That browser holds a
 * random token in this HttpOnly cookie; the pending row keeps only its keyed hash, and only the
 * same token can resend or confirm (see `registration.ts`). Native clients keep the cookie as
 * any cookie jar does.
 */
const COOKIE = 'registration';
// Longer than one code's life (R6: 5 minutes) plus a few resends.
const MAX_AGE_S = 30 * 60;
const TOKEN = /^[a-z2-7]{32}$/;

/** This browser's registration token, made and set when it has none (step 1). */
export function registrationStarter(cookies: Cookies, secure: boolean): string {
	const existing = cookies.get(COOKIE);
	if (existing && TOKEN.test(existing)) return existing;
	const token = newToken();
	cookies.set(COOKIE, token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: MAX_AGE_S
	});
	return token;
}

/** The token this browser sent, if any (resend and confirm never make one). */
export function registrationToken(cookies: Cookies): string | null {
	const token = cookies.get(COOKIE);
	return token && TOKEN.test(token) ? token : null;
}

/** After the account exists the token has done its work. */
export function forgetRegistrationToken(cookies: Cookies, secure: boolean): void {
	cookies.delete(COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}
