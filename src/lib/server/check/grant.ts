import { sameSecret } from '../core/tokens';
import type { Keyring } from '../core/keys';
import type { Ctx } from '../core/context';

/**
 * R15a: proof of control of an identifier, remembered in this browser for a short time. The grant
 * (kept in a cookie by http/check-grant-cookie.ts) holds only an expiry and a MAC over
 * (identifier, device, expiry): it names no identifier, and does not work from another browser.
 */
const CHECK_GRANT_TTL_MS = 10 * 60_000;

function mac(keys: Keyring, identifier: string, deviceId: string, expires: number): string {
	return keys.hmac('check-grant', identifier, deviceId, String(expires));
}

/** A new grant for `identifier` on this device, and how long the browser should keep it. */
export function issueCheckGrant(
	ctx: Ctx,
	identifier: string,
	deviceId: string
): { grant: string; maxAgeSeconds: number } {
	const expires = ctx.clock.now().getTime() + CHECK_GRANT_TTL_MS;
	return {
		grant: `${expires}.${mac(ctx.keys, identifier, deviceId, expires)}`,
		maxAgeSeconds: CHECK_GRANT_TTL_MS / 1000
	};
}

/** Whether the grant this browser holds (if any) proves `identifier` on this device, unexpired. */
export function checkGrantCovers(
	ctx: Ctx,
	grant: string | undefined,
	identifier: string,
	deviceId: string
): boolean {
	const [expiresText, given] = (grant ?? '').split('.');
	const expires = Number(expiresText);
	if (!given || !Number.isSafeInteger(expires) || ctx.clock.now().getTime() >= expires)
		return false;
	return sameSecret(mac(ctx.keys, identifier, deviceId, expires), given);
}
