import type { RequestEvent } from '@sveltejs/kit';
import { checkGrantCovers, issueCheckGrant } from '../check';
import { isSecure } from './secure';

/**
 * R15a: the check grant (check/grant.ts: an expiry and a MAC, naming no identifier) kept in this
 * browser, HttpOnly and SameSite=Strict, for the grant's 10 minutes.
 */
const COOKIE = 'check_grant';

/** After a `check` code proved an identifier (`runCheck`'s `proven`), this browser remembers it. */
export function rememberCheckProof(
	event: Pick<RequestEvent, 'cookies' | 'url' | 'locals'>,
	outcome: { proven: { value: string } | null }
): void {
	if (!outcome.proven) return;
	const { grant, maxAgeSeconds } = issueCheckGrant(
		event.locals.app,
		outcome.proven.value,
		event.locals.deviceId
	);
	event.cookies.set(COOKIE, grant, {
		path: '/',
		httpOnly: true,
		sameSite: 'strict',
		secure: isSecure(event),
		maxAge: maxAgeSeconds
	});
}

/** Whether this browser's grant proves `identifier` (R15a). */
export function holdsCheckGrant(
	event: Pick<RequestEvent, 'cookies' | 'locals'>,
	identifier: string
): boolean {
	const { app, deviceId } = event.locals;
	return checkGrantCovers(app, event.cookies.get(COOKIE), identifier, deviceId);
}
