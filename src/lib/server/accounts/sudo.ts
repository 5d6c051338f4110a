import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { failure, type Failure } from '../core/failures';
import { confirmCurrentPassword, refuseIfFrozen } from './current-password';

/** §7a: one right current password covers the two-step settings of this session for 10 minutes. */
const SUDO_WINDOW_MS = 10 * 60_000;

/**
 * How a sensitive setting is re-authenticated: the current password with the request (the API's
 * contract), or the re-authentication window of the session that sends it (the two-step page).
 */
export type Reauth = { currentPassword: string } | { sessionId: string };

/**
 * §7a: the current password (the same gate, counter and pause as the two-step forms) opens a
 * 10-minute window on this session's row — server-side, per session, gone with the session.
 */
export async function openSudoWindow(
	ctx: Ctx,
	account: Account,
	sessionId: string,
	password: string
): Promise<{ ok: true; until: Date } | Failure> {
	const refused = await confirmCurrentPassword(ctx, account, password, 'two-step');
	if (refused) return refused;
	const until = ctx.clock.now().getTime() + SUDO_WINDOW_MS;
	await ctx.db
		.updateTable('sessions')
		.set({ sudo_until: until })
		.where('id', '=', sessionId)
		.where('account_id', '=', account.id)
		.execute();
	return { ok: true, until: new Date(until) };
}

/** The end of this session's open window, or null: it ends at exactly 10 minutes. */
export async function sudoUntil(
	ctx: Ctx,
	account: Account,
	sessionId: string
): Promise<Date | null> {
	const row = await ctx.db
		.selectFrom('sessions')
		.select('sudo_until')
		.where('id', '=', sessionId)
		.where('account_id', '=', account.id)
		.executeTakeFirst();
	const until = row?.sudo_until == null ? null : Number(row.sudo_until);
	return until !== null && ctx.clock.now().getTime() < until ? new Date(until) : null;
}

/**
 * The re-authentication a two-step change takes: the password as before, or an open window. A
 * frozen account is refused either way (§7b), before anything else is looked at.
 */
export async function confirmReauth(
	ctx: Ctx,
	account: Account,
	reauth: Reauth
): Promise<Failure | null> {
	if ('currentPassword' in reauth)
		return confirmCurrentPassword(ctx, account, reauth.currentPassword, 'two-step');
	const frozen = await refuseIfFrozen(ctx, account);
	if (frozen) return frozen;
	return (await sudoUntil(ctx, account, reauth.sessionId))
		? null
		: failure(403, 'reauth_required', m.two_step_reauth_required(), { field: 'currentPassword' });
}
