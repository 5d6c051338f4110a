import type { Ctx } from '../core/context';
import { readPendingSignIn } from './pending';
import { hasTotp } from './totp';

export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

async function passkeyCount(ctx: Ctx, accountId: string): Promise<number> {
	const row = await ctx.db
		.selectFrom('passkeys')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.where('account_id', '=', accountId)
		.executeTakeFirst();
	return Number(row?.n ?? 0);
}

/** The second factors the account can finish a sign-in with; none means two-step is off. */
export async function secondFactorMethods(
	ctx: Ctx,
	accountId: string
): Promise<SecondFactorMethod[]> {
	const [totp, passkeys] = await Promise.all([
		hasTotp(ctx, accountId),
		passkeyCount(ctx, accountId)
	]);
	const methods: SecondFactorMethod[] = totp ? ['totp', 'recovery_code'] : [];
	if (passkeys > 0) methods.push('passkey');
	return methods;
}

/** For the security checkup (§7c): whether two-step is on, and how many passkeys. */
export async function twoStepSummary(
	ctx: Ctx,
	accountId: string
): Promise<{ twoStep: boolean; passkeys: number }> {
	const [totp, passkeys] = await Promise.all([
		hasTotp(ctx, accountId),
		passkeyCount(ctx, accountId)
	]);
	return { twoStep: totp || passkeys > 0, passkeys };
}

/** The methods that can finish this browser's pending sign-in, or null when it has none live. */
export async function pendingSignInMethods(
	ctx: Ctx,
	token: string | null
): Promise<SecondFactorMethod[] | null> {
	const pending = await readPendingSignIn(ctx, token);
	return pending ? secondFactorMethods(ctx, pending.accountId) : null;
}
