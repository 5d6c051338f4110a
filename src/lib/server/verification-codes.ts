import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock';
import type { Db } from './db/database';
import type { CodePurpose, VerificationCodesTable } from './db/schema';
import type { Keyring } from './secrets';
import type { Selectable } from 'kysely';

// R6: the numbers of the rule.
export const CODE_LIFETIME_MS = 5 * 60_000;
export const RESEND_COOLDOWN_MS = 60_000;
export const MAX_WRONG_ATTEMPTS = 5;

export type CodeRow = Selectable<VerificationCodesTable>;

export type IssueResult =
	| { ok: true; code: string; expiresAt: Date; resendAfter: Date }
	| { ok: false; reason: 'cooldown'; retryAfter: Date };

export type ConsumeResult =
	| { ok: true; row: CodeRow }
	| { ok: false; reason: 'code_invalid' | 'code_expired' | 'too_many_attempts' };

function hashCode(keys: Keyring, purpose: CodePurpose, identifier: string, id: string, code: string): string {
	// Keyed and bound to purpose, identifier and row: a leaked table cannot be brute-forced offline.
	return keys.hmac('verification-code', purpose, identifier, id, code);
}

/** R6: 6 digits from a CSPRNG, stored only as a keyed hash; a new one replaces the old after 60 s. */
export async function issueCode(
	deps: { db: Db; clock: Clock; keys: Keyring },
	input: { purpose: CodePurpose; identifier: string; accountId?: string | null; payload?: unknown }
): Promise<IssueResult> {
	const now = deps.clock.now().getTime();
	const existing = await deps.db
		.selectFrom('verification_codes')
		.select(['created_at', 'consumed_at'])
		.where('purpose', '=', input.purpose)
		.where('identifier', '=', input.identifier)
		.executeTakeFirst();
	if (existing && existing.consumed_at === null && now < existing.created_at + RESEND_COOLDOWN_MS) {
		// R6: 60-second cooldown before a new code for the same purpose and identifier.
		return { ok: false, reason: 'cooldown', retryAfter: new Date(existing.created_at + RESEND_COOLDOWN_MS) };
	}
	const id = randomUUID();
	const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
	const row = {
		id,
		purpose: input.purpose,
		identifier: input.identifier,
		code_hash: hashCode(deps.keys, input.purpose, input.identifier, id, code),
		attempts: 0,
		created_at: now,
		expires_at: now + CODE_LIFETIME_MS,
		consumed_at: null,
		account_id: input.accountId ?? null,
		payload: input.payload === undefined ? null : JSON.stringify(input.payload)
	};
	// R6: the new code replaces the old one (one row per purpose + identifier).
	await deps.db
		.insertInto('verification_codes')
		.values(row)
		.onConflict((oc) =>
			oc.columns(['purpose', 'identifier']).doUpdateSet({
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
	deps: { db: Db; clock: Clock; keys: Keyring },
	input: { purpose: CodePurpose; identifier: string; code: string }
): Promise<ConsumeResult> {
	const now = deps.clock.now().getTime();
	const row = await deps.db
		.selectFrom('verification_codes')
		.selectAll()
		.where('purpose', '=', input.purpose)
		.where('identifier', '=', input.identifier)
		.executeTakeFirst();
	if (!row || row.consumed_at !== null) return { ok: false, reason: 'code_invalid' };
	if (row.attempts >= MAX_WRONG_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
	if (now >= row.expires_at) return { ok: false, reason: 'code_expired' };

	const expected = Buffer.from(row.code_hash, 'hex');
	const given = Buffer.from(hashCode(deps.keys, row.purpose, row.identifier, row.id, normalizeCode(input.code)), 'hex');
	if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
		const wrong = await deps.db
			.updateTable('verification_codes')
			.set((eb) => ({ attempts: eb('attempts', '+', 1) }))
			.where('id', '=', row.id)
			.where('attempts', '<', MAX_WRONG_ATTEMPTS)
			.executeTakeFirst();
		return { ok: false, reason: wrong.numUpdatedRows === 0n ? 'too_many_attempts' : 'code_invalid' };
	}
	const used = await deps.db
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

/** The live code for an identifier, for the check report (R13). */
export async function findPendingCode(
	db: Db,
	now: number,
	identifier: string
): Promise<Pick<CodeRow, 'purpose' | 'expires_at'> | undefined> {
	return db
		.selectFrom('verification_codes')
		.select(['purpose', 'expires_at'])
		.where('identifier', '=', identifier)
		.where('consumed_at', 'is', null)
		.where('expires_at', '>', now)
		.where('attempts', '<', MAX_WRONG_ATTEMPTS)
		.orderBy('expires_at', 'desc')
		.executeTakeFirst();
}

/**
 * Which of an account's live codes for `purpose` the person typed (a contact change may have
 * codes out to more than one new contact). Compares every candidate; counts nothing.
 */
export async function findCodeForAccount(
	deps: { db: Db; clock: Clock; keys: Keyring },
	input: { purpose: CodePurpose; accountId: string; code: string }
): Promise<{ match: CodeRow | undefined; latest: CodeRow | undefined }> {
	const rows = await deps.db
		.selectFrom('verification_codes')
		.selectAll()
		.where('purpose', '=', input.purpose)
		.where('account_id', '=', input.accountId)
		.where('consumed_at', 'is', null)
		.orderBy('created_at', 'desc')
		.limit(5)
		.execute();
	const typed = normalizeCode(input.code);
	let match: CodeRow | undefined;
	for (const row of rows) {
		const expected = Buffer.from(row.code_hash, 'hex');
		const given = Buffer.from(hashCode(deps.keys, row.purpose, row.identifier, row.id, typed), 'hex');
		if (expected.length === given.length && timingSafeEqual(expected, given)) match ??= row;
	}
	return { match, latest: rows[0] };
}
