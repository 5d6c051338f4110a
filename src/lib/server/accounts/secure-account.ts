import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failure, type Failure } from '../core/failures';
import { maskIdentifier, type Identifier } from '../core/identifiers';
import { hashToken, newToken } from '../core/tokens';
import type { RequestMeta } from '../core/request-meta';
import { boundContact } from './find';
import { requestPasswordReset } from './password-reset';
import { invalidateAccountSessions } from './sessions';
import { freezeAccount } from './freeze';

/**
 * "This wasn't me" (rules §7a): the link in a new-device alert. Whoever holds it — no
 * session needed — signs out every session of the account and starts a password reset (R18) to
 * the bound contact, which the alert went to. Single use, 7 days; only the token's SHA-256 is
 * stored. It cannot sign anyone in: the reset code still goes to the bound contact.
 */
export const SECURE_LINK_LIFETIME_MS = 7 * 86_400_000;

/**
 * A new link for the account: an absolute URL on `origin`, or only its path when no origin can be
 * trusted (production without ORIGIN), which the owner can still type after the site's address.
 * `issuedAt` (default now) is the moment the owner is told: a two-step notice passes the time of
 * the change it reports, so its own link takes that change back too (`undoTwoStepSince`).
 */
export async function issueSecureAccountLink(
	ctx: Ctx,
	accountId: string,
	origin: string | null,
	issuedAt?: number
): Promise<string> {
	const token = newToken();
	const now = issuedAt ?? ctx.clock.now().getTime();
	await ctx.db
		.insertInto('secure_account_tokens')
		.values({
			id: hashToken(token),
			account_id: accountId,
			created_at: now,
			expires_at: now + SECURE_LINK_LIFETIME_MS,
			used_at: null
		})
		.execute();
	const url = new URL('/account/secure', origin ?? 'http://origin.invalid');
	url.searchParams.set('token', token);
	return origin ? url.href : `${url.pathname}${url.search}`;
}

/**
 * §7a: "this wasn't me" takes back the second factors added since the message that carried the
 * link was sent (the link's `created_at` is the moment the owner was told): passkeys created at or
 * after it, and a TOTP confirmed at or after it (or still being set up) with its recovery codes.
 * Whoever signed in in the meantime cannot keep a passkey of their own, nor lock the owner out
 * with an authenticator app only they hold. Factors the owner had before stay (a reset keeps
 * two-step, R18). Audited with what went.
 */
async function undoTwoStepSince(
	ctx: Ctx,
	accountId: string,
	since: number,
	meta: RequestMeta
): Promise<{ passkeys: number; totp: boolean }> {
	const passkeys = await ctx.db
		.deleteFrom('passkeys')
		.where('account_id', '=', accountId)
		.where('created_at', '>=', since)
		.executeTakeFirst();
	const totp = await ctx.db
		.deleteFrom('account_totp')
		.where('account_id', '=', accountId)
		.where((eb) => eb.or([eb('confirmed_at', 'is', null), eb('confirmed_at', '>=', since)]))
		.returning('confirmed_at')
		.execute();
	const totpRemoved = totp.some((t) => t.confirmed_at !== null);
	if (totpRemoved)
		await ctx.db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
	const passkeysRemoved = Number(passkeys.numDeletedRows);
	const removed = { passkeys: passkeysRemoved, totp: totpRemoved };
	if (passkeysRemoved === 0 && !totpRemoved) return removed;
	await audit(ctx, {
		actorKind: 'anonymous',
		actorId: null,
		action: 'account.two_step_undone',
		subjectKind: 'account',
		subjectId: accountId,
		ip: meta.ip,
		details: {
			passkeysRemoved,
			totpRemoved,
			since: new Date(since).toISOString(),
			ipCountry: meta.ipCountry
		}
	});
	return removed;
}

const linkInvalid = () => failure(400, 'link_invalid', m.error_secure_link_invalid());
const linkExpired = () => failure(410, 'link_expired', m.error_secure_link_expired());

/**
 * Uses the link: the conditional update is the claim, so two clicks at once secure the account
 * once. Then the reset code is requested as the forgot-password form would (its limits apply).
 */
export async function secureAccount(
	ctx: Ctx,
	input: { token: string },
	meta: RequestMeta
): Promise<
	| {
			ok: true;
			accountId: string;
			contact: Identifier;
			masked: string;
			codeSent: boolean;
			twoStepRemoved: { passkeys: number; totp: boolean };
	  }
	| Failure
> {
	const id = hashToken(input.token);
	const now = ctx.clock.now().getTime();
	const secured = await ctx.db.transaction().execute(async (trx) => {
		const row = await trx
			.selectFrom('secure_account_tokens')
			.innerJoin('accounts', 'accounts.id', 'secure_account_tokens.account_id')
			.selectAll('accounts')
			.select([
				'secure_account_tokens.expires_at as link_expires_at',
				'secure_account_tokens.created_at as link_created_at'
			])
			.where('secure_account_tokens.id', '=', id)
			.where('secure_account_tokens.used_at', 'is', null)
			.executeTakeFirst();
		if (!row) return linkInvalid();
		const { link_expires_at, link_created_at, ...account } = row;
		if (now >= Number(link_expires_at)) return linkExpired();
		const claimed = await trx
			.updateTable('secure_account_tokens')
			.set({ used_at: now })
			.where('id', '=', id)
			.where('used_at', 'is', null)
			.executeTakeFirst();
		if (Number(claimed.numUpdatedRows) !== 1) return linkInvalid();
		const tx = { ...ctx, db: trx };
		// Every session and every pending sign-in ends (a second factor cannot finish one).
		await invalidateAccountSessions(tx, account.id);
		// §7a: every device becomes new again, and `secured_at` keeps "no device known" from
		// meaning "the account's first device": the next sign-in from any browser alerts, the
		// intruder's (whose password works until the reset is done) as much as the owner's.
		await trx.deleteFrom('account_devices').where('account_id', '=', account.id).execute();
		await trx
			.updateTable('accounts')
			.set({ secured_at: now })
			.where('id', '=', account.id)
			.execute();
		await audit(tx, {
			actorKind: 'anonymous',
			actorId: null,
			action: 'account.secured',
			subjectKind: 'account',
			subjectId: account.id,
			ip: meta.ip,
			details: { ipCountry: meta.ipCountry }
		});
		const twoStepRemoved = await undoTwoStepSince(tx, account.id, Number(link_created_at), meta);
		// R25: the link freezes too (in this transaction): the intruder's password no longer signs
		// in, every bound contact is told, and the reset below lifts it once the owner finishes it.
		const frozen = await freezeAccount(tx, account.id, { kind: 'link' }, meta);
		if (!frozen.ok) return frozen;
		return {
			ok: true as const,
			accountId: account.id,
			contact: boundContact(account),
			twoStepRemoved
		};
	});
	if (!secured.ok) return secured;
	const reset = await requestPasswordReset(ctx, { identifier: secured.contact.value }, meta);
	return {
		ok: true,
		accountId: secured.accountId,
		contact: secured.contact,
		masked: maskIdentifier(secured.contact),
		codeSent: reset.ok,
		twoStepRemoved: secured.twoStepRemoved
	};
}
