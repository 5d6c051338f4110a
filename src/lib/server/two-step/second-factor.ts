import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { beginAttempt } from '../accounts';
import { whileBlocked } from '../platform/limits';
import type { RequestMeta } from '../core/request-meta';
import { auditOwnTwoStep, seenFrom } from './activity';
import { finishPendingSignIn, readPendingSignIn, type PendingSignIn } from './pending';
import { acceptSecondFactorCode, codeGuessRules } from './totp';

// The same growing delays as the password step (accounts/sign-in.ts `signInRules`): per account
// from the 5th failure, per network from the 20th (an IPv6 /48 from the 77th), on the counters
// turning TOTP off shares (`codeGuessRules`). A 6-digit code has 10^6 values.

const pendingExpired = () =>
	failure(401, 'second_factor_expired', m.two_step_error_pending_expired());

/**
 * A finished proof of a sign-in: the session may start, but only at the account's credential
 * epoch its first step read (§7a); if a remedy moved it on meanwhile, the answer is `ended`.
 */
export interface SignInProof {
	ok: true;
	account: Account;
	epoch: number;
	ended: Failure;
	/** Recorded in the owner's activity (`auditSignedIn`) once the session has really started. */
	method: 'totp' | 'recovery_code' | 'passkey';
}

/** The account, unless disabled meanwhile. */
async function liveAccount(ctx: Ctx, accountId: string): Promise<Account | undefined> {
	const account = await ctx.db
		.selectFrom('accounts')
		.selectAll()
		.where('id', '=', accountId)
		.executeTakeFirst();
	return account && account.status !== 'disabled' ? account : undefined;
}

/**
 * The account of a sign-in that may still finish: not disabled, and not frozen by its owner
 * (§7b): no second step and no passkey sign-in (which asks here too) completes on a frozen one.
 */
export async function pendingAccount(ctx: Ctx, accountId: string): Promise<Account | undefined> {
	const account = await liveAccount(ctx, accountId);
	return account && account.frozen_at === null ? account : undefined;
}

/**
 * Ends a pending sign-in that passed its second factor: the caller then starts the session.
 * The claim is the delete of the pending row, so a pending sign-in ended meanwhile (every way of
 * ending sessions ends them too, `invalidateAccountSessions`) cannot finish even if it was read
 * before: `second_factor_expired`. A frozen account (§7b) answers `account_frozen`. A remedy (or
 * freeze) after the delete is caught when the session is written: it starts at the epoch the
 * pending row stored, never a re-read one, and a moved epoch answers `second_factor_expired` too.
 */
export async function completeSignIn(
	ctx: Ctx,
	pending: PendingSignIn,
	method: 'totp' | 'recovery_code' | 'passkey',
	meta: RequestMeta
): Promise<SignInProof | Failure> {
	const account = await liveAccount(ctx, pending.accountId);
	if (!account || !(await finishPendingSignIn(ctx, pending.id))) return pendingExpired();
	if (account.frozen_at !== null) return failures.accountFrozen();
	await auditOwnTwoStep(ctx, account.id, 'session.second_factor_passed', meta, { method });
	return { ok: true, account, epoch: pending.epoch, ended: pendingExpired(), method };
}

/**
 * Step 2 of a sign-in with two-step on: a TOTP code (never one accepted before) or an unused
 * recovery code. Attempts are counted before the check, per account and per address, as the
 * password step counts them (`beginAttempt`), so parallel guesses meet the same delays.
 */
export async function verifySecondFactor(
	ctx: Ctx,
	input: { token: string | null; code: string },
	meta: RequestMeta
): Promise<SignInProof | Failure> {
	const pending = await readPendingSignIn(ctx, input.token);
	if (!pending) return pendingExpired();
	const rules = codeGuessRules(ctx, pending.accountId, meta.ip);
	for (const rule of rules) {
		const blocked = await whileBlocked(ctx, rule.block);
		if (!blocked.ok) return failures.rateLimited(blocked.retryAfterSeconds);
	}
	const attempt = await beginAttempt(ctx, rules);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);
	const method = await acceptSecondFactorCode(ctx, pending.accountId, input.code);
	if (!method) {
		await audit(ctx, {
			actorKind: 'anonymous',
			actorId: null,
			action: 'session.second_factor_failed',
			subjectKind: 'account',
			subjectId: pending.accountId,
			ip: meta.ip,
			details: { failuresInWindow: attempt.failures[0]!, ...seenFrom(meta) }
		});
		return failure(400, 'code_invalid', m.error_second_factor_code_invalid(), { field: 'code' });
	}
	await attempt.succeeded();
	return completeSignIn(ctx, pending, method, meta);
}
