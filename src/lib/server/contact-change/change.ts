import {
	sendCode,
	asLocale,
	contactChangedMessage,
	enqueueMessage,
	consumeAccountCode,
	liveAccountCode,
	looksLikeCode,
	resendCooldown,
	smsDestinationProblem
} from '../messaging';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { ContactChange } from '$lib/types/check-report';
import { quotaRefusal, quotaView, readQuota } from './quota';
import { ContactTaken, isContactTaken, lockAccountRow, rebindContact } from './rebind';
import type { Account } from '../db/schema';
import { failure, failures, secondsUntil, type Failure } from '../core/failures';
import { maskIdentifier, parseIdentifier, type Identifier } from '../core/identifiers';
import { confirmCurrentPassword } from '../accounts';
import { limit } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';

// Codes to new contacts per account: a person tries one or two addresses, not dozens (R6 caps
// per recipient and per network apply on top, in `sendCode`).
const STARTS_PER_ACCOUNT = { max: 10, windowMs: 3_600_000 };

/**
 * R16 step 1: current password + new contact → a code to the new contact. R15: the answer is
 * the same 202 whether or not another account holds the new contact, so this form is no
 * registration oracle; R3's conflict is reported only after the code to it is confirmed.
 */
export async function startContactChange(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string; newIdentifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<ChangeCodeSent | Failure> {
	// §7b: a frozen account's contacts stay as they are until a reset (or an agent) lifts it.
	if (account.frozen_at !== null) return failures.accountFrozen();
	const refused = await confirmCurrentPassword(
		ctx,
		account,
		input.currentPassword,
		'contact-change'
	);
	if (refused) return refused;
	const parsed = parseIdentifier(input.newIdentifier, input.country ?? account.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem, 'newIdentifier');
	const next = parsed.identifier;
	// R29: no SMS to a refused number.
	const smsRefused = smsDestinationProblem(ctx.config, next, 'newIdentifier');
	if (smsRefused) return smsRefused;
	if (next.value === account.email || next.value === account.phone) {
		return failure(400, 'identifier_unchanged', m.error_identifier_unchanged(), {
			field: 'newIdentifier'
		});
	}
	return sendChangeCode(ctx, account, next, meta);
}

type ChangeCodeSent = { ok: true; masked: string; expiresAt: Date; resendAfter: Date };

/**
 * R6: a fresh code to the new contact of the change already started (its password proved then),
 * under the same quota, per-account start cap and send caps as a start. The target cannot change.
 */
export async function resendContactChangeCode(
	ctx: Ctx,
	account: Account,
	meta: RequestMeta
): Promise<ChangeCodeSent | Failure> {
	if (account.frozen_at !== null) return failures.accountFrozen();
	const next = await pendingChangeContact(ctx, account.id);
	if (!next) return failure(409, 'code_not_pending', m.cs_error_code_not_pending());
	return sendChangeCode(ctx, account, next, meta);
}

/** The new contact a started change is waiting on (its code not yet used), for the owner only. */
export async function pendingChangeContact(
	ctx: Ctx,
	accountId: string
): Promise<Identifier | null> {
	const pending = await ctx.db
		.selectFrom('verification_codes')
		.select('identifier')
		.where('purpose', '=', 'contact_change')
		.where('account_id', '=', accountId)
		.where('consumed_at', 'is', null)
		.orderBy('created_at', 'desc')
		.executeTakeFirst();
	const next = pending ? parseIdentifier(pending.identifier) : undefined;
	return next?.ok ? next.identifier : null;
}

/**
 * R16/R6: the account's change still waiting for its code, read only, so the code
 * step can be shown again on a plain GET; a used, locked, expired or replaced code ends it.
 */
export async function pendingContactChange(
	ctx: Ctx,
	accountId: string
): Promise<{ identifier: Identifier; expiresAt: Date; resendAfter: Date } | null> {
	const live = await liveAccountCode(ctx, 'contact_change', accountId);
	const next = live ? parseIdentifier(live.identifier) : undefined;
	return live && next?.ok
		? { identifier: next.identifier, expiresAt: live.expiresAt, resendAfter: live.resendAfter }
		: null;
}

async function sendChangeCode(
	ctx: Ctx,
	account: Account,
	next: Identifier,
	meta: RequestMeta
): Promise<ChangeCodeSent | Failure> {
	const refusal = quotaRefusal(await readQuota(ctx, account.id));
	if (refusal) return refusal;
	// R6: a resend inside the cooldown is refused before it spends a start.
	const early = await resendCooldown(ctx, 'contact_change', next.value, account.id);
	if (early) return failures.resendTooSoon(secondsUntil(early, ctx.clock.now()));
	const starts = await limit(ctx, `contact-change-start:${account.id}`, STARTS_PER_ACCOUNT);
	if (!starts.ok) return failures.rateLimited(starts.retryAfterSeconds);

	return ctx.db.transaction().execute(async (trx) => {
		const sent = await sendCode(
			{ ...ctx, db: trx },
			{
				purpose: 'contact_change',
				to: next,
				locale: meta.locale,
				ip: meta.ip,
				accountId: account.id,
				payload: { kind: next.kind }
			}
		);
		return sent.ok ? { ...sent, masked: maskIdentifier(next) } : sent;
	});
}

/**
 * R16 step 2, atomically: the quota is re-read under a lock on the account (PostgreSQL row lock;
 * SQLite runs one write transaction at a time), so parallel confirmations cannot exceed it.
 * R17: the old contact is told, and every other session is signed out.
 */
export async function confirmContactChange(
	ctx: Ctx,
	account: Account,
	input: { code: string },
	meta: RequestMeta & { sessionId: string | null }
): Promise<{ ok: true; quota: ContactChange; contact: Identifier } | Failure> {
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	try {
		return await ctx.db.transaction().execute(async (trx) => {
			const tx = { ...ctx, db: trx };
			// R16: taken before the reads it guards (freeze, quota, code); `rebindContact` is handed
			// it and does not lock again.
			const locked = await lockAccountRow(tx, account.id);
			const current = await trx
				.selectFrom('accounts')
				.selectAll()
				.where('id', '=', account.id)
				.executeTakeFirstOrThrow();
			// §7b, read under the lock: a freeze that lands while the code is out stops the change.
			if (current.frozen_at !== null) return failures.accountFrozen();
			const refusal = quotaRefusal(await readQuota(tx, account.id));
			if (refusal) return refusal;
			// R6: only the account's newest contact-change code is compared, and every guess counts.
			const consumed = await consumeAccountCode(tx, {
				purpose: 'contact_change',
				accountId: account.id,
				code: input.code
			});
			if (!consumed.ok) return failures.code(consumed.reason, consumed.attemptsLeft);
			const match = consumed.row;
			const next = parseIdentifier(match.identifier);
			if (!next.ok) return failures.code('code_invalid');
			const contact = next.identifier;
			// R3, told only now that the code proved control of the new contact; a contact the
			// account already has is no change either (and no entry in R16's window).
			if (contact.value === current.email || contact.value === current.phone)
				throw new ContactTaken();
			const { replaced, changeId } = await rebindContact(tx, {
				accountId: account.id,
				next: contact,
				kind: 'owner',
				locked,
				// R17: every other session of the account is signed out.
				keepSessionId: meta.sessionId,
				actor: {
					actorKind: 'account',
					actorId: account.id,
					ip: meta.ip,
					details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
				}
			});
			// R17: the old contact is told, with a link into the appeal in case it was not the owner.
			if (replaced)
				await enqueueMessage(
					tx,
					contactChangedMessage(
						replaced,
						contact,
						changeId,
						asLocale(current.locale),
						ctx.config.origin
					)
				);
			const quota = await readQuota(tx, account.id);
			return { ok: true as const, quota: quotaView(quota), contact };
		});
	} catch (error) {
		// Rolled back, so the code stays usable and nothing partial is stored.
		if (isContactTaken(error)) return { ...failures.identifierTaken(), field: 'code' };
		throw error;
	}
}
