import type { RequestEvent } from '@sveltejs/kit';
import { deviceFromToken } from '../accounts';
import { isSecure } from './secure';

/** R10: every browser gets a random long-lived device cookie; the database only sees its hash. */
const COOKIE = 'device';
const MAX_AGE_S = 2 * 365 * 86_400;

/** Reads the device cookie, setting a new one when absent or malformed; returns the device id. */
export function deviceIdFromCookie(event: Pick<RequestEvent, 'cookies' | 'url'>): string {
	const device = deviceFromToken(event.cookies.get(COOKIE));
	if (device.newToken)
		event.cookies.set(COOKIE, device.newToken, {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: isSecure(event),
			maxAge: MAX_AGE_S
		});
	return device.deviceId;
}
