import type { RequestEvent } from '@sveltejs/kit';
import type { Account } from '../db/schema';
import { requestMeta } from './request-meta';
import { isSecure } from './secure';
import {
	createSession,
	generateSessionToken,
	invalidateSession,
	noteSignInDevice
} from '../accounts';

type CookieEvent = Pick<RequestEvent, 'cookies' | 'url'>;

/** `__Host-` needs Secure; over plain http (development, tests) the cookie has a plain name. */
function sessionCookieName(secure: boolean): string {
	return secure ? '__Host-session' : 'session';
}

/** The buyer session token this browser sent, if any. */
export function sessionTokenFromCookie(event: CookieEvent): string | undefined {
	return event.cookies.get(sessionCookieName(isSecure(event)));
}

function setSessionCookie(event: CookieEvent, token: string, expiresAt: Date): void {
	const secure = isSecure(event);
	event.cookies.set(sessionCookieName(secure), token, {
		httpOnly: true,
		sameSite: 'lax',
		secure,
		path: '/',
		expires: expiresAt
	});
}

export function deleteSessionCookie(event: CookieEvent): void {
	const secure = isSecure(event);
	event.cookies.delete(sessionCookieName(secure), {
		httpOnly: true,
		sameSite: 'lax',
		secure,
		path: '/'
	});
}

/**
 * Signs the account in on this browser. Any session planted before is dropped (no fixation).
 * Every way in ends here (password, registration, a second factor), so the device is noted here.
 * `epoch` is the account's credential epoch the sign-in read before its password or second
 * factor was checked (§7a): false, and no session, when a remedy ended the account's sessions
 * since or the account was frozen (`createSession`).
 */
export async function startSession(
	event: RequestEvent,
	account: Account,
	epoch: number
): Promise<boolean> {
	const { app } = event.locals;
	if (event.locals.session) await invalidateSession(app, event.locals.session.id);
	const token = generateSessionToken();
	const meta = requestMeta(event);
	const session = await createSession(
		app,
		token,
		account.id,
		{ ip: meta.ip, ipCountry: meta.ipCountry, userAgent: meta.userAgent },
		epoch
	);
	if (!session) {
		event.locals.session = null;
		event.locals.account = null;
		return false;
	}
	setSessionCookie(event, token, session.expiresAt);
	// §7a: a device this account has not used before alerts its bound contact. The link's
	// origin is ORIGIN, never the request's Host in production: a sign-in sent with a forged Host
	// would otherwise mail the owner a working "this wasn't me" token on the sender's site.
	const origin = app.config.origin ?? (app.config.production ? null : event.url.origin);
	await noteSignInDevice(app, account, { ...meta, origin });
	event.locals.session = session;
	event.locals.account = account;
	return true;
}

export async function endSession(event: RequestEvent): Promise<void> {
	const { app } = event.locals;
	if (event.locals.session) await invalidateSession(app, event.locals.session.id);
	deleteSessionCookie(event);
	event.locals.session = null;
	event.locals.account = null;
}
