import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { verifyPassword } from './passwords';
import { whileBlocked } from '../platform/limits';
import { beginAttempt, type FailureRule } from './sign-in';

// Wrong current passwords on one form: 5 per hour, then a 15-minute pause.
const PASSWORD_FAILURES = { max: 5, windowMs: 3_600_000, pauseMs: 15 * 60_000 };

export type PasswordForm =
	'contact-change' | 'two-step' | 'freeze' | 'recovery-cancel' | 'data-export' | 'deletion';

/**
 * §7b: the forms a frozen account may not use. The freeze and the recovery cancel are the
 * owner's own protections and stay open; a second factor is neither added nor taken away.
 */
const CLOSED_WHILE_FROZEN: ReadonlySet<PasswordForm> = new Set(['two-step']);

/**
 * §7b: `account_frozen` when the owner froze the account. Read from the database, not from the
 * account the request loaded, so a freeze that lands during the request still counts.
 */
export async function refuseIfFrozen(ctx: Ctx, account: Account): Promise<Failure | null> {
	const row = await ctx.db
		.selectFrom('accounts')
		.select('frozen_at')
		.where('id', '=', account.id)
		.executeTakeFirst();
	return (row?.frozen_at ?? account.frozen_at) != null ? failures.accountFrozen() : null;
}

/**
 * One form's failure counter as a `beginAttempt` rule: every attempt counts before the argon2
 * work; the 5th in an hour takes the 15-minute pause itself (if it fails the pause holds), so
 * attempts sent at once meet the same 5 as attempts sent one by one. A right password takes only
 * its own count back (`clearOnSuccess: false`): the promise is 5 wrong ones an hour.
 */
function passwordRule(form: PasswordForm, accountId: string): FailureRule {
	return {
		failures: `${form}-fail:${accountId}`,
		block: `${form}-pause:${accountId}`,
		windowMs: PASSWORD_FAILURES.windowMs,
		delayAfter: (n) => (n >= PASSWORD_FAILURES.max ? PASSWORD_FAILURES.pauseMs : 0),
		clearOnSuccess: false
	};
}

/**
 * The password again before a change a stolen session alone must not make (R16's contact change,
 * a second factor added or removed, the owner's freeze, the owner's cancel of a recovery). Each
 * `form` counts its own failures; null when it is right. Two-step changes of a frozen account
 * answer `account_frozen` before the password is looked at (§7b).
 */
export async function confirmCurrentPassword(
	ctx: Ctx,
	account: Account,
	password: string,
	form: PasswordForm
): Promise<Failure | null> {
	if (CLOSED_WHILE_FROZEN.has(form)) {
		const frozen = await refuseIfFrozen(ctx, account);
		if (frozen) return frozen;
	}
	const rule = passwordRule(form, account.id);
	// While paused, nothing is written or hashed.
	const paused = await whileBlocked(ctx, rule.block);
	if (!paused.ok) return failures.rateLimited(paused.retryAfterSeconds);
	// Counted before the argon2 work (R16): read-then-count let 40 parallel guesses all through.
	const attempt = await beginAttempt(ctx, [rule]);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);
	if (await verifyPassword(account.password_hash, password)) {
		await attempt.succeeded();
		return null;
	}
	return failure(403, 'invalid_credentials', m.error_current_password(), {
		field: 'currentPassword'
	});
}
