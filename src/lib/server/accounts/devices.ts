import { hashToken, newToken } from '../core/tokens';
import type { Ctx } from '../core/context';
import { precompiled } from '../db/precompiled';

/**
 * R10: every browser holds a random long-lived device token (its cookie is
 * http/device-cookie.ts); the database only sees its hash, the device id.
 */
const DEVICE_TOKEN = /^[a-z2-7]{32}$/;

/**
 * The device id for the token a browser sent; a new token (to hand the browser) when it sent
 * none or a malformed one.
 */
export function deviceFromToken(given: string | undefined): {
	deviceId: string;
	newToken: string | null;
} {
	if (given && DEVICE_TOKEN.test(given)) return { deviceId: hashToken(given), newToken: null };
	const token = newToken();
	return { deviceId: hashToken(token), newToken: token };
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
