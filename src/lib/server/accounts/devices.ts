import type { Cookies } from '@sveltejs/kit';
import { hashToken, newToken } from '../core/tokens';
import type { Ctx } from '../core/context';
import { precompiled } from '../db/precompiled';

/**
 * R10: every browser gets a random long-lived device cookie; the database only sees its hash.
 */
const DEVICE_COOKIE = 'device';
const DEVICE_COOKIE_MAX_AGE_S = 2 * 365 * 86_400;

/** Reads the device cookie, setting a new one when absent or malformed; returns the device id. */
export function deviceIdFromCookies(cookies: Cookies, secure: boolean): string {
	let token = cookies.get(DEVICE_COOKIE);
	if (!token || !/^[a-z2-7]{32}$/.test(token)) {
		token = newToken();
		cookies.set(DEVICE_COOKIE, token, {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure,
			maxAge: DEVICE_COOKIE_MAX_AGE_S
		});
	}
	return hashToken(token);
}

export async function recordDevice(ctx: Ctx, deviceId: string): Promise<void> {
	const { db, clock } = ctx;
	const now = clock.now().getTime();
	await db
		.insertInto('devices')
		.values({ id: deviceId, created_at: now, last_seen_at: now })
		.onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_at: now }))
		.execute();
}

/** R10: how many accounts were registered from this device. */
const accountsOnDevice = precompiled((db, p: { deviceId: string }) =>
	db
		.selectFrom('accounts')
		.select((eb) => eb.fn.countAll<number | string>().as('n'))
		.where('reg_device_id', '=', p.deviceId)
);

export async function countAccountsOnDevice(ctx: Ctx, deviceId: string): Promise<number> {
	const row = await accountsOnDevice.first(ctx.db, { deviceId });
	return Number(row?.n ?? 0);
}
