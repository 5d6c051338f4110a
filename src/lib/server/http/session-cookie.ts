import type { RequestEvent } from '@sveltejs/kit';
import type { Account } from '../db/schema';
import { requestMeta } from '../core/request-meta';
import {
	createSession,
	deleteSessionTokenCookie,
	generateSessionToken,
	invalidateSession,
	noteSignInDevice,
	setSessionTokenCookie
} from '../accounts';

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
	setSessionTokenCookie(event.cookies, token, session.expiresAt, event.url.protocol === 'https:');
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
	deleteSessionTokenCookie(event.cookies, event.url.protocol === 'https:');
	event.locals.session = null;
	event.locals.account = null;
}
