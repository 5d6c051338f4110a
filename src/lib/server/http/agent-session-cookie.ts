import type { RequestEvent } from '@sveltejs/kit';
import { isSecure } from './secure';

/**
 * R22: the support console's session cookie, sent only to /support, SameSite=Strict. A session
 * cookie (no expiry): closing the browser ends it; the server enforces the limits.
 */
const PATH = '/support';

type CookieEvent = Pick<RequestEvent, 'cookies' | 'url'>;

function agentSessionCookieName(secure: boolean): string {
	return secure ? '__Secure-support_session' : 'support_session';
}

const attributes = (secure: boolean) => ({
	httpOnly: true,
	sameSite: 'strict' as const,
	secure,
	path: PATH
});

/** The agent session token this browser sent, if any. */
export function agentSessionTokenFromCookie(event: CookieEvent): string | undefined {
	return event.cookies.get(agentSessionCookieName(isSecure(event)));
}

export function setAgentSessionCookie(event: CookieEvent, token: string): void {
	const secure = isSecure(event);
	event.cookies.set(agentSessionCookieName(secure), token, attributes(secure));
}

export function deleteAgentSessionCookie(event: CookieEvent): void {
	const secure = isSecure(event);
	event.cookies.delete(agentSessionCookieName(secure), attributes(secure));
}
