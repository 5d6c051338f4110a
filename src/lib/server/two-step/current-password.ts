import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { verifyPassword } from '../accounts';
import { blockUntil, hit, whileBlocked } from '../platform/limits';

// Wrong current passwords on the two-step forms: 5 per hour, then a 15-minute pause (as R16's form).
const PASSWORD_FAILURES = { max: 5, windowMs: 3_600_000, pauseMs: 15 * 60_000 };

/**
 * Changing how the account is protected needs the password again: a stolen session alone must
 * not turn two-step off, nor add a factor of the thief's own.
 */
export async function confirmCurrentPassword(
	ctx: Ctx,
	account: Account,
	password: string
): Promise<Failure | null> {
	const pauseKey = `two-step-pw-pause:${account.id}`;
	const paused = await whileBlocked(ctx, pauseKey);
	if (!paused.ok) return failures.rateLimited(paused.retryAfterSeconds);
	if (await verifyPassword(account.password_hash, password)) return null;
	const window = await hit(ctx, `two-step-pw-fail:${account.id}`, PASSWORD_FAILURES.windowMs);
	if (window.count >= PASSWORD_FAILURES.max)
		await blockUntil(ctx, pauseKey, ctx.clock.now().getTime() + PASSWORD_FAILURES.pauseMs);
	return failure(403, 'invalid_credentials', m.error_current_password(), {
		field: 'currentPassword'
	});
}
