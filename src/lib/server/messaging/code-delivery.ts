import type { Locale } from '$lib/paraglide/runtime';
import type { CodePurpose } from '../db/schema';
import { addressKey } from '../platform/address-key';
import { failures, secondsUntil, type Failure } from '../core/failures';
import type { Identifier } from '../core/identifiers';
import { codeMessage } from './templates';
import { enqueueMessage, type OutgoingMessage } from './outbox';
import { limit, limitAddress } from '../platform/limits';
import { issueCode, resendCooldown } from './codes';
import type { Ctx } from '../core/context';
import { smsBudget, smsDestinationProblem, smsPrefixCap } from './sms-guard';

/**
 * R6 + R7: every code costs a message (and an SMS costs money), so every purpose has the same
 * hourly caps on top of the 60-second cooldown (SMS pumping, resend floods):
 * - per identifier and purpose from one client network: 6 — what a person needs;
 * - per identifier and purpose from all networks: 20 — a stranger on another network cannot use
 *   up the first cap and so lock the owner out of their own reset or registration;
 * - per client network over all identifiers and purposes: 30.
 */
const SEND_CAPS = {
	perIdentifierFromNetwork: { max: 6, windowMs: 3_600_000 },
	perIdentifier: { max: 20, windowMs: 3_600_000 },
	perAddress: { max: 30, windowMs: 3_600_000 }
} as const;

/**
 * R6 + R7: a new code and the message carrying it, written in the caller's transaction, so both
 * are stored or neither is. A resend inside the 60-second cooldown is a `rate_limited` failure.
 * `deliver: false` stores the code and spends the caps exactly as a real send does, but queues no
 * message: for an identifier with no account (R18 answers the same either way).
 */
export async function sendCode(
	ctx: Ctx,
	input: {
		purpose: CodePurpose;
		to: Identifier;
		locale: Locale;
		ip: string;
		accountId?: string | null;
		payload?: unknown;
		deliver?: boolean;
		/**
		 * The message for this code instead of `codeMessage`, given the code and its stored row
		 * (R18's reset link is bound to the row: its id and keyed hash).
		 */
		compose?: (code: string, row: { id: string; codeHash: string }) => OutgoingMessage;
	}
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	// R29: the entries refuse these numbers before any account look-up; refused here again.
	const destination = smsDestinationProblem(ctx.config, input.to);
	if (destination) return destination;
	// R6: a resend inside the cooldown is refused before any cap is spent on it.
	const early = await resendCooldown(ctx, input.purpose, input.to.value);
	if (early) return failures.resendTooSoon(secondsUntil(early, ctx.clock.now()));
	const idKey = ctx.keys.hmac('identifier', input.to.value);
	const network = addressKey(ctx.keys, input.ip);
	for (const check of [
		() =>
			limit(
				ctx,
				`send:id-net:${input.purpose}:${idKey}:${network}`,
				SEND_CAPS.perIdentifierFromNetwork
			),
		() => limit(ctx, `send:id:${input.purpose}:${idKey}`, SEND_CAPS.perIdentifier),
		() => limitAddress(ctx, 'send', input.ip, SEND_CAPS.perAddress)
	]) {
		const allowed = await check();
		if (!allowed.ok) return failures.rateLimited(allowed.retryAfterSeconds);
	}
	// R29: the number block's hourly cap, then the day's SMS budget over all instances.
	const smsRefused =
		(await smsPrefixCap(ctx, input.to)) ??
		(await smsBudget(ctx, input.to, input.deliver !== false));
	if (smsRefused) return smsRefused;
	const issued = await issueCode(ctx, {
		purpose: input.purpose,
		identifier: input.to.value,
		accountId: input.accountId,
		payload: input.payload
	});
	if (!issued.ok) return failures.resendTooSoon(secondsUntil(issued.resendAfter, ctx.clock.now()));
	const stored = input.compose
		? await ctx.db
				.selectFrom('verification_codes')
				.select(['id', 'code_hash'])
				.where('purpose', '=', input.purpose)
				.where('identifier', '=', input.to.value)
				.executeTakeFirstOrThrow()
		: undefined;
	const message =
		input.compose && stored
			? input.compose(issued.code, { id: stored.id, codeHash: stored.code_hash })
			: codeMessage(input.to, input.purpose, issued.code, input.locale);
	// The same insert either way; an undelivered one is taken back in the same transaction.
	const id = await enqueueMessage(ctx, message);
	if (input.deliver === false) await ctx.db.deleteFrom('outbox').where('id', '=', id).execute();
	return { ok: true, expiresAt: issued.expiresAt, resendAfter: issued.resendAfter };
}
