import { randomInt, randomUUID } from 'node:crypto';
import { sameSecret } from '../core/tokens';
import type { Db } from '../db/database';
import type { CodePurpose, VerificationCodesTable } from '../db/schema';
import { limit } from '../platform/limits';
import type { Keyring } from '../core/keys';
import type { Selectable } from 'kysely';
import type { Ctx } from '../core/context';

// R6: the numbers of the rule.
export const CODE_LIFETIME_MS = 5 * 60_000;
const RESEND_COOLDOWN_MS = 60_000;
const MAX_WRONG_ATTEMPTS = 5;
/**
 * Every code attempt on one identifier and purpose, across all the codes it is sent (R6 allows a
 * new one each minute): 10 an hour and 30 a day, counted before the compare. Without this, five
 * guesses per code times a code a minute is 300 guesses an hour against one account.
 */
const ATTEMPTS_PER_IDENTIFIER = [
	{ max: 10, windowMs: 3_600_000, name: 'h' },
	{ max: 30, windowMs: 86_400_000, name: 'd' }
] as const;

type CodeRow = Selectable<VerificationCodesTable>;

/** R6: a code whose wrong tries are used up never verifies again. */
export function isCodeExhausted(code: Pick<CodeRow, 'attempts'>): boolean {
	return code.attempts >= MAX_WRONG_ATTEMPTS;
}

/**
 * R6: whether a code can still be used at `now` — not consumed, tries left, not expired. The one
 * definition: everything that asks "is this code still live" asks it here.
 */
export function isCodeLive(
	code: Pick<CodeRow, 'attempts' | 'expires_at' | 'consumed_at'>,
	now: number
): boolean {
	return code.consumed_at === null && !isCodeExhausted(code) && now < code.expires_at;
}

export type IssueResult =
	| { ok: true; code: string; expiresAt: Date; resendAfter: Date }
	| { ok: false; reason: 'cooldown'; resendAfter: Date };

export type ConsumeResult =
	| { ok: true; row: CodeRow }
	| {
			ok: false;
			reason: 'code_invalid' | 'code_expired' | 'too_many_attempts';
			/** After a wrong try: how many this code has left (R6's 5 per code, nothing more). */
			attemptsLeft?: number;
	  };

function hashCode(
	keys: Keyring,
	purpose: CodePurpose,
	identifier: string,
	id: string,
	code: string
): string {
	// Keyed and bound to purpose, identifier and row: a leaked table cannot be brute-forced offline.
	return keys.hmac('verification-code', purpose, identifier, id, code);
}

/**
 * R6/R16: whose code a row is, beside its purpose and identifier. A contact-change code belongs
 * to the account that asked for it: another account changing to the same new contact gets a row
 * of its own, so it can neither replace nor kill this one, nor wait out its cooldown, nor spend
 * its tries. Every other purpose has one row per (purpose, identifier): ''.
 */
function codeScope(purpose: CodePurpose, accountId: string | null | undefined): string {
	return purpose === 'contact_change' && accountId ? accountId : '';
}

/**
 * R6: when a new code for this purpose and identifier (and account, for a contact change) may be
 * sent, if the 60-second cooldown since the last one still runs. Callers ask before spending any
 * send cap, so a resend pressed too early costs nothing; `issueCode` asks again where it writes.
 */
export async function resendCooldown(
	ctx: Ctx,
	purpose: CodePurpose,
	identifier: string,
	accountId?: string | null
): Promise<Date | null> {
	const existing = await ctx.db
		.selectFrom('verification_codes')
		.select(['created_at', 'consumed_at'])
		.where('purpose', '=', purpose)
		.where('identifier', '=', identifier)
		.where('scope', '=', codeScope(purpose, accountId))
		.executeTakeFirst();
	const until = existing ? existing.created_at + RESEND_COOLDOWN_MS : 0;
	return existing && existing.consumed_at === null && ctx.clock.now().getTime() < until
		? new Date(until)
		: null;
}

/** R6: a stored code's times while it is still usable (unused, under 5 wrong tries, unexpired). */
export interface LiveCodeTimes {
	expiresAt: Date;
	/** When a new code may be sent (60 s after this one). */
	resendAfter: Date;
}

/**
 * R6: the live code for a purpose and identifier, read only, for a code step shown
 * again on a plain GET. Nothing is sent or counted; a used, locked or expired code is none.
 */
export async function liveCode(
	ctx: Ctx,
	purpose: CodePurpose,
	identifier: string
): Promise<LiveCodeTimes | null> {
	return liveTimes(ctx, await findCode(ctx.db, purpose, identifier));
}

/** As `liveCode`, for an account's newest code of the purpose (R16's contact change). */
export async function liveAccountCode(
	ctx: Ctx,
	purpose: CodePurpose,
	accountId: string
): Promise<(LiveCodeTimes & { identifier: string }) | null> {
	const row = await ctx.db
		.selectFrom('verification_codes')
		.selectAll()
		.where('purpose', '=', purpose)
		.where('account_id', '=', accountId)
		.orderBy('created_at', 'desc')
		.executeTakeFirst();
	const times = liveTimes(ctx, row);
	return times && row ? { ...times, identifier: row.identifier } : null;
}

function liveTimes(ctx: Ctx, row: CodeRow | undefined): LiveCodeTimes | null {
	if (!row || !isCodeLive(row, ctx.clock.now().getTime())) return null;
	return {
		expiresAt: new Date(row.expires_at),
		resendAfter: new Date(row.created_at + RESEND_COOLDOWN_MS)
	};
}

/** R6: 6 digits from a CSPRNG, stored only as a keyed hash; a new one replaces the old after 60 s. */
export async function issueCode(
	ctx: Ctx,
	input: { purpose: CodePurpose; identifier: string; accountId?: string | null; payload?: unknown }
): Promise<IssueResult> {
	const now = ctx.clock.now().getTime();
	const resendAfter = await resendCooldown(ctx, input.purpose, input.identifier, input.accountId);
	// R6: 60-second cooldown before a new code for the same purpose and identifier.
	if (resendAfter) return { ok: false, reason: 'cooldown', resendAfter };
	const id = randomUUID();
	const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
	const row = {
		id,
		purpose: input.purpose,
		identifier: input.identifier,
		code_hash: hashCode(ctx.keys, input.purpose, input.identifier, id, code),
		attempts: 0,
		created_at: now,
		expires_at: now + CODE_LIFETIME_MS,
		consumed_at: null,
		account_id: input.accountId ?? null,
		scope: codeScope(input.purpose, input.accountId),
		payload: input.payload === undefined ? null : JSON.stringify(input.payload)
	};
	// R6: one live code per (account, purpose): a code out to another address of the same
	// account for the same purpose (a second contact change, a reset to the other contact) dies.
	// R15a/R18: it dies by losing its secret and its account, not its row — the row keeps counting
	// wrong tries, locking and expiring exactly like a stranger's, so answers on that address never
	// show that it and this one belong to one account; and the account's own look-ups
	// (`consumeAccountCode`, a pending change) see only the new one, even one issued the same ms.
	if (row.account_id !== null) {
		await ctx.db
			.updateTable('verification_codes')
			.set({
				code_hash: hashCode(ctx.keys, input.purpose, input.identifier, randomUUID(), randomUUID()),
				account_id: null
			})
			.where('account_id', '=', row.account_id)
			.where('purpose', '=', input.purpose)
			.where('identifier', '!=', input.identifier)
			.execute();
	}
	// R6: the new code replaces the old one (one row per purpose + identifier + scope).
	await ctx.db
		.insertInto('verification_codes')
		.values(row)
		.onConflict((oc) =>
			oc.columns(['purpose', 'identifier', 'scope']).doUpdateSet({
				id: row.id,
				code_hash: row.code_hash,
				attempts: 0,
				created_at: row.created_at,
				expires_at: row.expires_at,
				consumed_at: null,
				account_id: row.account_id,
				payload: row.payload
			})
		)
		.execute();
	return {
		ok: true,
		code,
		expiresAt: new Date(row.expires_at),
		resendAfter: new Date(now + RESEND_COOLDOWN_MS)
	};
}

/**
 * R6: single use, constant-time compare, 5 wrong attempts kill the code, and an expired code is
 * told apart from a wrong one. Both writes are conditional updates, so parallel attempts can
 * neither use a code twice nor get more than 5 guesses.
 */
export async function consumeCode(
	ctx: Ctx,
	input: { purpose: CodePurpose; identifier: string; code: string },
	options: { counted?: boolean } = {}
): Promise<ConsumeResult> {
	return attempt(ctx, await findCode(ctx.db, input.purpose, input.identifier), input.code, {
		consume: true,
		counted: options.counted ?? false
	});
}

/**
 * The same judgement as `consumeCode`, wrong attempts counted alike, but a right code stays
 * usable: for flows that must know the code is right before doing costly work (R19 uploads).
 */
export async function verifyCode(
	ctx: Ctx,
	input: { purpose: CodePurpose; identifier: string; code: string }
): Promise<ConsumeResult> {
	return attempt(ctx, await findCode(ctx.db, input.purpose, input.identifier), input.code, {
		consume: false,
		counted: false
	});
}

/**
 * R6 for codes bound to an account (R16's contact change): only the account's newest code for
 * the purpose is ever compared; older ones are dead (`issueCode` takes their secret and account).
 */
export async function consumeAccountCode(
	ctx: Ctx,
	input: { purpose: CodePurpose; accountId: string; code: string }
): Promise<ConsumeResult> {
	const row = await ctx.db
		.selectFrom('verification_codes')
		.selectAll()
		.where('purpose', '=', input.purpose)
		.where('account_id', '=', input.accountId)
		.orderBy('created_at', 'desc')
		.executeTakeFirst();
	return attempt(ctx, row, input.code, { consume: true, counted: false });
}

/**
 * R17/R18/R21: when an account's bound contact changes, every code still pending for the old
 * contact or for the account dies, so a reset code sent to the old address resets nothing.
 */
export async function revokePendingCodes(
	ctx: Ctx,
	input: { accountId: string; identifiers: string[] }
): Promise<void> {
	await ctx.db
		.deleteFrom('verification_codes')
		.where('consumed_at', 'is', null)
		.where((eb) =>
			eb.or([
				eb('account_id', '=', input.accountId),
				...(input.identifiers.length ? [eb('identifier', 'in', input.identifiers)] : [])
			])
		)
		.execute();
}

/**
 * The details a flow carries in its code's row (`issueCode`'s `payload`: R3's pending
 * registration), parsed; null when the row carries none. Only codes.ts writes the column.
 */
export function codePayload<T>(row: Pick<CodeRow, 'payload'>): T | null {
	return row.payload ? (JSON.parse(row.payload) as T) : null;
}

/** A code not used yet, with what its row carries; `live`: it can still be used now (R6). */
interface UnusedCode<T> {
	id: string;
	payload: T;
	expiresAt: Date;
	live: boolean;
}

/** The code for the purpose and identifier that is not used yet and carries a payload, if any. */
export async function unusedCodeWithPayload<T>(
	ctx: Ctx,
	purpose: CodePurpose,
	identifier: string
): Promise<UnusedCode<T> | null> {
	const row = await findCode(ctx.db, purpose, identifier);
	const payload = row && row.consumed_at === null ? codePayload<T>(row) : null;
	if (!row || payload === null) return null;
	return {
		id: row.id,
		payload,
		expiresAt: new Date(row.expires_at),
		live: isCodeLive(row, ctx.clock.now().getTime())
	};
}

/**
 * Replaces what a code's row carries, while the code is not used: the code, its tries and its
 * expiry stay as they are (R3: a registration keeps other browsers' starts beside its own).
 */
export async function replaceCodePayload(ctx: Ctx, id: string, payload: unknown): Promise<void> {
	await ctx.db
		.updateTable('verification_codes')
		.set({ payload: JSON.stringify(payload) })
		.where('id', '=', id)
		.where('consumed_at', 'is', null)
		.execute();
}

function findCode(db: Db, purpose: CodePurpose, identifier: string): Promise<CodeRow | undefined> {
	return db
		.selectFrom('verification_codes')
		.selectAll()
		.where('purpose', '=', purpose)
		.where('identifier', '=', identifier)
		.where('scope', '=', '')
		.executeTakeFirst();
}

async function attempt(
	ctx: Ctx,
	row: CodeRow | undefined,
	code: string,
	/** `counted`: the same request already counted this attempt (a `verifyCode` before the work). */
	{ consume, counted }: { consume: boolean; counted: boolean }
): Promise<ConsumeResult> {
	const now = ctx.clock.now().getTime();
	if (!row || row.consumed_at !== null) return { ok: false, reason: 'code_invalid' };
	if (isCodeExhausted(row)) return { ok: false, reason: 'too_many_attempts' };
	// Neither consumed nor out of tries: a code that is not live has expired.
	if (!isCodeLive(row, now)) return { ok: false, reason: 'code_expired' };
	// Counted before the compare, so parallel guesses cannot slip under the cap. An account's
	// contact-change code has caps of its own (R16): another account's guesses never spend them.
	const bucket = row.scope
		? ctx.keys.hmac('identifier', row.identifier, row.scope)
		: ctx.keys.hmac('identifier', row.identifier);
	for (const rule of counted ? [] : ATTEMPTS_PER_IDENTIFIER) {
		const allowed = await limit(ctx, `code-attempt:${rule.name}:${row.purpose}:${bucket}`, rule);
		if (!allowed.ok) return { ok: false, reason: 'too_many_attempts' };
	}

	if (
		!sameSecret(
			row.code_hash,
			hashCode(ctx.keys, row.purpose, row.identifier, row.id, normalizeCode(code))
		)
	) {
		const wrong = await ctx.db
			.updateTable('verification_codes')
			.set((eb) => ({ attempts: eb('attempts', '+', 1) }))
			.where('id', '=', row.id)
			.where('attempts', '<', MAX_WRONG_ATTEMPTS)
			.returning('attempts')
			.executeTakeFirst();
		if (!wrong) return { ok: false, reason: 'too_many_attempts' };
		// The count of this code only, read from the same conditional update: it tells nothing the
		// person has not typed, and the identifier-wide caps above still bound every guess.
		return {
			ok: false,
			reason: 'code_invalid',
			attemptsLeft: MAX_WRONG_ATTEMPTS - Number(wrong.attempts)
		};
	}
	if (!consume) return { ok: true, row };
	const used = await ctx.db
		.updateTable('verification_codes')
		.set({ consumed_at: now })
		.where('id', '=', row.id)
		.where('consumed_at', 'is', null)
		.where('attempts', '<', MAX_WRONG_ATTEMPTS)
		.executeTakeFirst();
	if (used.numUpdatedRows === 0n) return { ok: false, reason: 'code_invalid' };
	return { ok: true, row: { ...row, consumed_at: now } };
}

/** People paste codes with spaces or type them with full-width digits. */
function normalizeCode(code: string): string {
	return code.normalize('NFKC').replace(/\s+/g, '');
}

/** Whether what was typed can be a code at all, before any lookup spends an attempt. */
export function looksLikeCode(code: string): boolean {
	return /^\d{6}$/.test(normalizeCode(code));
}
