import type { Ctx } from '../core/context';
import { secondFactorMethods } from './methods';

/**
 * R21: an approved appeal means the person lost everything, the authenticator app and passkeys
 * included: every factor goes (TOTP, recovery codes, passkeys, pending sign-ins and challenges).
 * Answers whether two-step was on, so the notices can say it is now off. Run it in the rebind's
 * transaction.
 */
export async function turnOffTwoStep(ctx: Ctx, accountId: string): Promise<boolean> {
	const wasOn = (await secondFactorMethods(ctx, accountId)).length > 0;
	const { db } = ctx;
	await db.deleteFrom('account_totp').where('account_id', '=', accountId).execute();
	await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
	await db.deleteFrom('passkeys').where('account_id', '=', accountId).execute();
	await db.deleteFrom('pending_sign_ins').where('account_id', '=', accountId).execute();
	await db.deleteFrom('webauthn_challenges').where('account_id', '=', accountId).execute();
	return wasOn;
}
