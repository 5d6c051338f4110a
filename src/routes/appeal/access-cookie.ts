import type { Cookies } from '@sveltejs/kit';

/**
 * R19: the status secret, kept in an HttpOnly cookie scoped to /appeal after submission (or after
 * the person types it), so it never appears in a URL, a referrer or a log line.
 */
const NAME = 'appeal_access';
const MAX_AGE_S = 120 * 86_400;

export function readAppealAccess(
	cookies: Cookies
): { reference: string; statusToken: string } | null {
	const value = cookies.get(NAME);
	const match = value
		? /^(AP-[0-9A-Z]{4}-[0-9A-Z]{4})\.([A-Za-z0-9_-]{16,128})$/.exec(value)
		: null;
	return match ? { reference: match[1]!, statusToken: match[2]! } : null;
}

export function setAppealAccess(
	cookies: Cookies,
	reference: string,
	statusToken: string,
	secure: boolean
): void {
	cookies.set(NAME, `${reference}.${statusToken}`, {
		path: '/appeal',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: MAX_AGE_S
	});
}

export function clearAppealAccess(cookies: Cookies, secure: boolean): void {
	cookies.delete(NAME, { path: '/appeal', httpOnly: true, sameSite: 'lax', secure });
}
