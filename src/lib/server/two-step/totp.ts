import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { RequestMeta } from '../core/request-meta';
import { auditOwnTwoStep } from './activity';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { maskIdentifier } from '../core/identifiers';
import { sameSecret } from '../core/tokens';
import { matchTotp, newTotpKey, totpKeyUri } from '../core/totp';
import { beginAttempt, confirmReauth, refuseIfFrozen, signInRules, type Reauth } from '../accounts';
import { whileBlocked } from '../platform/limits';
import { issueRecoveryCodes, useRecoveryCode } from './recovery-codes';
import { tellTwoStepChange } from './notices';

// Sealed per account: a copy of the database holds no TOTP secret (docs/DATA.md).
const PURPOSE = 'account-totp';

const setupCodeInvalid = () =>
	failure(400, 'code_invalid', m.error_totp_setup_code_invalid(), { field: 'code' });
const secondFactorCodeInvalid = () =>
	failure(400, 'code_invalid', m.error_second_factor_code_invalid(), { field: 'code' });

/** The account label in authenticator apps: the bound contact, masked (R4), never whole. */
function accountLabel(account: Account): string {
	if (account.email) return maskIdentifier({ kind: 'email', value: account.email });
	if (account.phone) return maskIdentifier({ kind: 'phone', value: account.phone });
	return account.id.slice(0, 8);
}

async function readTotp(ctx: Ctx, accountId: string) {
	return ctx.db
		.selectFrom('account_totp')
		.selectAll()
		.where('account_id', '=', accountId)
		.executeTakeFirst();
}

/** Step 1: a new secret, kept unconfirmed until a code from the app proves it was saved. */
export async function startTotpSetup(
	ctx: Ctx,
	account: Account,
	input: Reauth
): Promise<{ ok: true; secret: string; otpauthUri: string } | Failure> {
	const refused = await confirmReauth(ctx, account, input);
	if (refused) return refused;
	const existing = await readTotp(ctx, account.id);
	if (existing?.confirmed_at != null)
		return failure(409, 'totp_already_on', m.two_step_error_already_on());
	const key = newTotpKey();
	const row = {
		account_id: account.id,
		secret: ctx.keys.seal(PURPOSE, account.id, key),
		created_at: ctx.clock.now().getTime(),
		confirmed_at: null,
		last_step: null
	};
	// Only an unconfirmed row is replaced: a confirmed secret that landed meanwhile stays.
	if (existing) {
		await ctx.db
			.updateTable('account_totp')
			.set(row)
			.where('account_id', '=', account.id)
			.where('confirmed_at', 'is', null)
			.execute();
	} else {
		await ctx.db
			.insertInto('account_totp')
			.values(row)
			.onConflict((oc) => oc.column('account_id').doNothing())
			.execute();
	}
	return {
		ok: true,
		secret: encodeBase32UpperCaseNoPadding(key),
		otpauthUri: totpKeyUri(accountLabel(account), key)
	};
}

/**
 * The set-up page's own echo of the secret it showed (after a wrong code, JavaScript off): the
 * key URI again only when it is the account's unconfirmed secret, so nobody learns one this way.
 */
export async function echoTotpSetup(
	ctx: Ctx,
	account: Account,
	secret: string
): Promise<{ secret: string; otpauthUri: string } | null> {
	const row = await readTotp(ctx, account.id);
	if (!row || row.confirmed_at !== null) return null;
	const key = ctx.keys.open(PURPOSE, account.id, row.secret);
	if (!sameSecret(encodeBase32UpperCaseNoPadding(key), secret)) return null;
	return { secret, otpauthUri: totpKeyUri(accountLabel(account), key) };
}

/** Step 2: a code from the app turns two-step on and answers the ten recovery codes, once. */
export async function confirmTotpSetup(
	ctx: Ctx,
	account: Account,
	input: { code: string },
	meta: RequestMeta
): Promise<{ ok: true; recoveryCodes: string[] } | Failure> {
	const frozen = await refuseIfFrozen(ctx, account);
	if (frozen) return frozen;
	const row = await readTotp(ctx, account.id);
	if (!row || row.confirmed_at !== null)
		return failure(409, 'totp_setup_missing', m.two_step_error_setup_missing());
	const step = matchTotp(ctx.keys.open(PURPOSE, account.id, row.secret), ctx.clock, input.code);
	if (step === null) return setupCodeInvalid();
	return ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const confirmedAt = ctx.clock.now().getTime();
		const confirmed = await trx
			.updateTable('account_totp')
			.set({ confirmed_at: confirmedAt, last_step: step })
			.where('account_id', '=', account.id)
			.where('secret', '=', row.secret)
			.where('confirmed_at', 'is', null)
			.executeTakeFirst();
		if (confirmed.numUpdatedRows === 0n)
			return failure(409, 'totp_setup_missing', m.two_step_error_setup_missing());
		const recoveryCodes = await issueRecoveryCodes(tx, account.id);
		await auditOwnTwoStep(tx, account.id, 'account.two_step_on', meta, { method: 'totp' });
		await tellTwoStepChange(tx, account, 'totp_on', meta, confirmedAt);
		return { ok: true as const, recoveryCodes };
	});
}

/**
 * A TOTP code of the account's confirmed secret, accepted at most once: the conditional update of
 * the last accepted step makes a replayed (or raced) code fail.
 */
async function acceptTotpCode(ctx: Ctx, accountId: string, code: string): Promise<boolean> {
	const row = await readTotp(ctx, accountId);
	if (!row || row.confirmed_at === null) return false;
	const step = matchTotp(ctx.keys.open(PURPOSE, accountId, row.secret), ctx.clock, code);
	if (step === null) return false;
	const used = await ctx.db
		.updateTable('account_totp')
		.set({ last_step: step })
		.where('account_id', '=', accountId)
		.where('confirmed_at', 'is not', null)
		.where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
		.executeTakeFirst();
	return used.numUpdatedRows > 0n;
}

/** A TOTP code or, for someone who lost the app, a recovery code. */
export async function acceptSecondFactorCode(
	ctx: Ctx,
	accountId: string,
	code: string
): Promise<'totp' | 'recovery_code' | null> {
	if (await acceptTotpCode(ctx, accountId, code)) return 'totp';
	if (await useRecoveryCode(ctx, accountId, code)) return 'recovery_code';
	return null;
}

/**
 * The counters a code guess is charged to, wherever it is made: the sign-in's second step
 * (`second-factor.ts` builds the same keys) and turning TOTP off. Per account, so guesses on both
 * paths add up; per network, as the sign-in counts them.
 */
export function codeGuessRules(ctx: Ctx, accountId: string, ip: string) {
	return signInRules(
		ctx,
		{ failures: `2fa-fail:acct:${accountId}`, block: `2fa-block:acct:${accountId}` },
		{ name: '2fa', ip }
	);
}

/**
 * A code checked with the second step's growing delays (`signInRules`: per account from the 5th
 * failure, per network from the 20th), counted before the check (`beginAttempt`) so guesses sent
 * at once meet the same delays as guesses sent one by one. Turning TOTP off and the owner's data
 * export (R28) ask for it.
 */
export async function throttledSecondFactorCode(
	ctx: Ctx,
	accountId: string,
	code: string,
	meta: RequestMeta
): Promise<'totp' | 'recovery_code' | Failure> {
	const rules = codeGuessRules(ctx, accountId, meta.ip);
	for (const rule of rules) {
		const blocked = await whileBlocked(ctx, rule.block);
		if (!blocked.ok) return failures.rateLimited(blocked.retryAfterSeconds);
	}
	const attempt = await beginAttempt(ctx, rules);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);
	const method = await acceptSecondFactorCode(ctx, accountId, code);
	if (!method) return secondFactorCodeInvalid();
	await attempt.succeeded();
	return method;
}

/**
 * Turning TOTP off takes the password and a code: a stolen session alone cannot. The code is
 * throttled as at the sign-in's second step, on the same per-account counter: the password
 * alone buys no more guesses here than there.
 */
export async function disableTotp(
	ctx: Ctx,
	account: Account,
	input: Reauth & { code: string },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const refused = await confirmReauth(ctx, account, input);
	if (refused) return refused;
	const row = await readTotp(ctx, account.id);
	if (!row || row.confirmed_at === null)
		return failure(409, 'totp_not_on', m.two_step_error_not_on());
	const accepted = await throttledSecondFactorCode(ctx, account.id, input.code, meta);
	if (typeof accepted !== 'string') return accepted;
	await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		await trx.deleteFrom('account_totp').where('account_id', '=', account.id).execute();
		await trx.deleteFrom('recovery_codes').where('account_id', '=', account.id).execute();
		await auditOwnTwoStep(tx, account.id, 'account.two_step_off', meta, { method: 'totp' });
		await tellTwoStepChange(tx, account, 'totp_off', meta);
	});
	return { ok: true };
}

export async function hasTotp(ctx: Ctx, accountId: string): Promise<boolean> {
	const row = await readTotp(ctx, accountId);
	return row !== undefined && row.confirmed_at !== null;
}
