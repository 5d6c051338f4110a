import { sameSecret } from '../core/tokens';
import type { Cookies } from '@sveltejs/kit';
import type { Keyring } from '../core/keys';
import type { Ctx } from '../core/context';

/**
 * R15a: proof of control of an identifier, remembered in this browser for a short time. The cookie
 * holds only an expiry and a MAC over (identifier, device, expiry): it names no identifier, and
 * does not work from another browser.
 */
const CHECK_GRANT_TTL_MS = 10 * 60_000;
const COOKIE = 'check_grant';

function mac(keys: Keyring, identifier: string, deviceId: string, expires: number): string {
	return keys.hmac('check-grant', identifier, deviceId, String(expires));
}

export function setCheckGrant(
	ctx: Ctx,
	cookies: Cookies,
	identifier: string,
	deviceId: string,
	secure: boolean
): void {
	const expires = ctx.clock.now().getTime() + CHECK_GRANT_TTL_MS;
	cookies.set(COOKIE, `${expires}.${mac(ctx.keys, identifier, deviceId, expires)}`, {
		path: '/',
		httpOnly: true,
		sameSite: 'strict',
		secure,
		maxAge: CHECK_GRANT_TTL_MS / 1000
	});
}

export function checkGrantCovers(
	ctx: Ctx,
	cookies: Cookies,
	identifier: string,
	deviceId: string
): boolean {
	const [expiresText, given] = (cookies.get(COOKIE) ?? '').split('.');
	const expires = Number(expiresText);
	if (!given || !Number.isSafeInteger(expires) || ctx.clock.now().getTime() >= expires)
		return false;
	return sameSecret(mac(ctx.keys, identifier, deviceId, expires), given);
}
