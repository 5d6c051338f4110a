import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { RequestMeta } from '../core/request-meta';
import { auditOwnTwoStep } from './activity';
import type { Account } from '../db/schema';
import { failure, type Failure } from '../core/failures';
import { confirmReauth, refuseIfFrozen, type Reauth } from '../accounts';
import { tellTwoStepChange } from './notices';

export interface PasskeyView {
	id: string;
	name: string;
	createdAt: string;
	lastUsedAt: string | null;
}

/** The relying party is this site as ORIGIN names it; without ORIGIN there are no passkeys. */
export function relyingParty(ctx: Ctx): { rpID: string; origin: string } | Failure {
	if (!ctx.config.origin)
		return failure(503, 'passkeys_unavailable', m.two_step_error_passkeys_unavailable());
	const url = new URL(ctx.config.origin);
	return { rpID: url.hostname, origin: url.origin };
}

/**
 * The account's WebAuthn user handle (base64url): the one its passkeys were registered with, or
 * for its first passkey a stable, opaque one derived from the key ring (the authenticator never
 * learns the account id). Kept per passkey (`user_handle`), so a key rotation changes nothing.
 */
export async function accountUserHandle(ctx: Ctx, accountId: string): Promise<string> {
	const existing = await ctx.db
		.selectFrom('passkeys')
		.select('user_handle')
		.where('account_id', '=', accountId)
		.where('user_handle', 'is not', null)
		.orderBy('created_at')
		.executeTakeFirst();
	return (
		existing?.user_handle ??
		Buffer.from(ctx.keys.hmac('webauthn-user', accountId).slice(0, 32), 'hex').toString('base64url')
	);
}

export const passkeyInvalid = () =>
	failure(400, 'passkey_invalid', m.two_step_error_passkey_invalid());
const notFound = () => failure(404, 'passkey_not_found', m.two_step_error_passkey_not_found());

export async function listPasskeys(ctx: Ctx, accountId: string): Promise<PasskeyView[]> {
	const rows = await ctx.db
		.selectFrom('passkeys')
		.select(['id', 'name', 'created_at', 'last_used_at'])
		.where('account_id', '=', accountId)
		.orderBy('created_at')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		name: r.name,
		createdAt: new Date(Number(r.created_at)).toISOString(),
		lastUsedAt: r.last_used_at === null ? null : new Date(Number(r.last_used_at)).toISOString()
	}));
}

export async function renamePasskey(
	ctx: Ctx,
	account: Account,
	input: { id: string; name: string }
): Promise<{ ok: true } | Failure> {
	const frozen = await refuseIfFrozen(ctx, account);
	if (frozen) return frozen;
	const renamed = await ctx.db
		.updateTable('passkeys')
		.set({ name: input.name.trim() })
		.where('id', '=', input.id)
		.where('account_id', '=', account.id)
		.executeTakeFirst();
	return renamed.numUpdatedRows > 0n ? { ok: true } : notFound();
}

/** Removing a passkey takes the password: a stolen session alone cannot strip the account's factors. */
export async function removePasskey(
	ctx: Ctx,
	account: Account,
	input: { id: string } & Reauth,
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const refused = await confirmReauth(ctx, account, input);
	if (refused) return refused;
	// §7a: the removal, its audit entry and the owner's notice commit together.
	const removed = await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const deleted = await trx
			.deleteFrom('passkeys')
			.where('id', '=', input.id)
			.where('account_id', '=', account.id)
			.executeTakeFirst();
		if (deleted.numDeletedRows === 0n) return false;
		await auditOwnTwoStep(tx, account.id, 'account.passkey_removed', meta);
		await tellTwoStepChange(tx, account, 'passkey_removed', meta);
		return true;
	});
	if (!removed) return notFound();
	return { ok: true };
}
