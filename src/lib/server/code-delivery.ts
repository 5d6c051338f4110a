import type { Locale } from '$lib/paraglide/runtime';
import type { Clock } from './clock';
import type { Db } from './db/database';
import type { CodePurpose } from './db/schema';
import { failures, secondsUntil, type Failure } from './failures';
import type { Identifier } from './identifiers';
import { codeMessage } from './message-templates';
import { enqueueMessage } from './outbox';
import type { Keyring } from './secrets';
import { issueCode } from './verification-codes';

/**
 * R6 + R7: a new code and the message carrying it, written in the caller's transaction, so both
 * are stored or neither is. A resend inside the 60-second cooldown is a `rate_limited` failure.
 */
export async function sendCode(
	trx: Db,
	deps: { clock: Clock; keys: Keyring },
	input: { purpose: CodePurpose; to: Identifier; locale: Locale; accountId?: string | null; payload?: unknown }
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	const issued = await issueCode(
		{ db: trx, clock: deps.clock, keys: deps.keys },
		{ purpose: input.purpose, identifier: input.to.value, accountId: input.accountId, payload: input.payload }
	);
	if (!issued.ok) return failures.resendTooSoon(secondsUntil(issued.retryAfter, deps.clock.now()));
	await enqueueMessage(trx, deps.clock, codeMessage(input.to, input.purpose, issued.code, input.locale));
	return { ok: true, expiresAt: issued.expiresAt, resendAfter: issued.resendAfter };
}
