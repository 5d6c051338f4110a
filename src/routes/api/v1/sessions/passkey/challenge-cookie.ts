import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { isSecure } from '$lib/server/http/secure';

/**
 * The first-factor passkey challenge, sealed (two-step/challenges.ts), kept by the browser that
 * asked for it: HttpOnly, SameSite=Strict, sent only to the passkey sign-in endpoints, for the
 * ceremony's 5 minutes. Cleared by the assertion that uses it, whatever its outcome.
 */
const COOKIE = 'passkey_challenge';
const PATH = '/api/v1/sessions/passkey';
const SEALED = /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{1,1024}$/;

const attributes = (event: Pick<RequestEvent, 'url'>) => ({
	path: PATH,
	httpOnly: true,
	sameSite: 'strict' as const,
	secure: isSecure(event)
});

export function keepPasskeyChallenge(
	event: Pick<RequestEvent, 'cookies' | 'url'>,
	challenge: { sealed: string; expiresAt: Date }
): void {
	event.cookies.set(COOKIE, challenge.sealed, {
		...attributes(event),
		expires: challenge.expiresAt
	});
}

/** The sealed challenge this browser holds, taken: the cookie is cleared in the same answer. */
export function takePasskeyChallenge(event: Pick<RequestEvent, 'cookies' | 'url'>): string | null {
	const sealed = (event.cookies as Cookies).get(COOKIE);
	if (sealed === undefined) return null;
	event.cookies.delete(COOKIE, attributes(event));
	return SEALED.test(sealed) ? sealed : null;
}
