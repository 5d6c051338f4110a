import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { verifyPassword } from './passwords';
import { blockUntil, hit, whileBlocked } from '../platform/limits';

// Wrong current passwords on one form: 5 per hour, then a 15-minute pause.
const PASSWORD_FAILURES = { max: 5, windowMs: 3_600_000, pauseMs: 15 * 60_000 };

/**
 * The password again before a change a stolen session alone must not make (R16's contact change,
 * a second factor added or removed, the owner's freeze, the owner's cancel of a recovery). Each `form` counts its own failures; null when it is right.
 */
export async function confirmCurrentPassword(
	ctx: Ctx,
	account: Account,
	password: string,
	form: 'contact-change' | 'two-step' | 'freeze' | 'recovery-cancel'
): Promise<Failure | null> {
	const pauseKey = `${form}-pause:${account.id}`;
	const paused = await whileBlocked(ctx, pauseKey);
	if (!paused.ok) return failures.rateLimited(paused.retryAfterSeconds);
	if (await verifyPassword(account.password_hash, password)) return null;
	const window = await hit(ctx, `${form}-fail:${account.id}`, PASSWORD_FAILURES.windowMs);
	if (window.count >= PASSWORD_FAILURES.max)
		await blockUntil(ctx, pauseKey, ctx.clock.now().getTime() + PASSWORD_FAILURES.pauseMs);
	return failure(403, 'invalid_credentials', m.error_current_password(), {
		field: 'currentPassword'
	});
}
