import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { RequestMeta } from '../core/request-meta';
import type { Account } from '../db/schema';
import { failure, type Failure } from '../core/failures';
import { confirmReauth, type Reauth } from '../accounts';
import { auditOwnTwoStep } from './activity';
import { hasTotp } from './totp';
import { issueRecoveryCodes } from './recovery-codes';

/**
 * §7a: ten new recovery codes for an account with TOTP on, after the password or inside this
 * session's re-authentication window; the old set dies in the same transaction. Shown once.
 */
export async function regenerateRecoveryCodes(
	ctx: Ctx,
	account: Account,
	reauth: Reauth,
	meta: RequestMeta
): Promise<{ ok: true; recoveryCodes: string[] } | Failure> {
	const refused = await confirmReauth(ctx, account, reauth);
	if (refused) return refused;
	if (!(await hasTotp(ctx, account.id)))
		return failure(409, 'totp_not_on', m.two_step_error_not_on());
	const recoveryCodes = await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const codes = await issueRecoveryCodes(tx, account.id);
		await auditOwnTwoStep(tx, account.id, 'account.recovery_codes_regenerated', meta);
		return codes;
	});
	return { ok: true, recoveryCodes };
}
