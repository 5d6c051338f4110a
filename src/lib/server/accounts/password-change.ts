import { m } from '$lib/paraglide/messages';
import { asLocale, enqueueMessage, passwordChangedMessage } from '../messaging';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failure, failures, type Failure } from '../core/failures';
import { deviceLabel } from '../core/request-meta';
import type { Account } from '../db/schema';
import type { SessionMeta } from './account-sessions';
import { boundContact } from './find';
import { hashNewPassword } from './new-password';
import { verifyPassword } from './passwords';
import { invalidateAccountSessions } from './sessions';
import { beginAttempt, delayAfter } from './sign-in';

// Wrong current passwords are throttled as sign-in's per identifier (sign-in.ts): free up to the
// 4th failure in an hour, then 15 s doubling to 15 min. Per account: the person is signed in.
const FAILURE_WINDOW_MS = 3_600_000;
const FREE_FAILURES = 4;

/**
 * A signed-in owner changes the password (R5): the current one proves it is the owner and not
 * someone at an unlocked screen. Every other session is signed out, the owner told.
 */
export async function changePassword(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string; newPassword: string },
	meta: SessionMeta
): Promise<{ ok: true } | Failure> {
	const attempt = await beginAttempt(ctx, [
		{
			failures: `password-change-fail:${account.id}`,
			block: `password-change-block:${account.id}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: (n) => delayAfter(n, FREE_FAILURES),
			clearOnSuccess: true
		}
	]);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);
	if (!(await verifyPassword(account.password_hash, input.currentPassword))) {
		await audit(ctx, {
			actorKind: 'account',
			actorId: account.id,
			action: 'account.password_change_failed',
			subjectKind: 'account',
			subjectId: account.id,
			ip: meta.ip,
			details: { failuresInWindow: attempt.failures[0]! }
		});
		return failure(401, 'invalid_credentials', m.error_current_password(), {
			field: 'currentPassword'
		});
	}
	await attempt.succeeded();
	// R5: "changing" to the same password would sign every other device out and alarm the owner
	// for nothing; it is refused before anything is written. Compared as hashed (NFC, R5).
	if (input.newPassword.normalize('NFC') === input.currentPassword.normalize('NFC'))
		return failure(400, 'same_password', m.error_same_password(), { field: 'newPassword' });
	const identifiers = [account.email, account.phone].filter((v): v is string => v !== null);
	const hashed = await hashNewPassword(ctx, input.newPassword, identifiers);
	if (!hashed.ok) return hashed;

	await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		await trx
			.updateTable('accounts')
			.set({ password_hash: hashed.hash, password_changed_at: ctx.clock.now().getTime() })
			.where('id', '=', account.id)
			.execute();
		await invalidateAccountSessions(tx, account.id, meta.sessionId ?? undefined);
		await enqueueMessage(
			tx,
			passwordChangedMessage(boundContact(account), asLocale(account.locale))
		);
		await audit(tx, {
			actorKind: 'account',
			actorId: account.id,
			action: 'account.password_changed',
			subjectKind: 'account',
			subjectId: account.id,
			ip: meta.ip,
			details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
		});
	});
	return { ok: true };
}
