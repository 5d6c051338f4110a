import {
	sendCode,
	asLocale,
	passwordResetMessage,
	enqueueMessage,
	consumeCode,
	liveCode,
	looksLikeCode,
	passwordResetCodeMessage,
	smsDestinationProblem
} from '../messaging';
import { findAccountByIdentifier } from './find';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import { hashNewPassword } from './new-password';
import { limitAddress } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';
import { invalidateAccountSessions } from './sessions';
import { liftFreeze } from './freeze';
import { sameSecret } from '../core/tokens';
import type { Account } from '../db/schema';
import { m } from '$lib/paraglide/messages';

const RESETS_PER_IP = { max: 20, windowMs: 3_600_000 };
const CONFIRMS_PER_IP = { max: 60, windowMs: 3_600_000 };

/**
 * R18's reset link (rules §7): `<code row id>.<keyed MAC of the row's id and code hash>`. It is
 * bound to the code row it was sent with, so it lives and dies with that code: 5 minutes, single
 * use (either the code or the link), replaced by a newer code (a new row id and hash), revoked by
 * a contact change (the row is deleted) or killed by a code to the account's other contact (the
 * hash is replaced). 256 bits nobody can guess: its confirm spends no per-identifier guess cap,
 * and a code locked by wrong guesses does not lock its link.
 */
function linkMac(ctx: Ctx, rowId: string, codeHash: string): string {
	return ctx.keys.hmac('password-reset-link', rowId, codeHash);
}
const LINK = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([0-9a-f]{64})$/;

/** Every link that does not work (garbage, used, expired, replaced, revoked) answers this alone. */
const linkInvalid = () => failure(400, 'link_invalid', m.error_link_invalid(), { field: 'token' });

/**
 * R18 step 1. The same answer, the same work and the same stored state whether or not the
 * identifier has an account: a code row is written either way (so the confirm step counts
 * attempts, expires and locks alike), and the message is queued only for an account.
 */
export async function requestPasswordReset(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	const { db } = ctx;
	const byIp = await limitAddress(ctx, 'reset', meta.ip, RESETS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	// R29: no SMS to a refused number, said before any account look-up (the same answer either way).
	const smsRefused = smsDestinationProblem(ctx.config, identifier);
	if (smsRefused) return smsRefused;
	const account = await findAccountByIdentifier(ctx, identifier);
	// R6's cooldown and the hourly caps apply alike: the code row exists for unknown identifiers.
	const sent = await db.transaction().execute((trx) =>
		sendCode(
			{ ...ctx, db: trx },
			{
				purpose: 'password_reset',
				to: identifier,
				locale: asLocale(account?.locale ?? meta.locale),
				ip: meta.ip,
				accountId: account?.id ?? null,
				deliver: account !== undefined,
				// R18 + §7: the code and a one-time link bound to its row, built on ORIGIN only.
				compose: (code, row) =>
					passwordResetCodeMessage(
						identifier,
						code,
						`${row.id}.${linkMac(ctx, row.id, row.codeHash)}`,
						asLocale(account?.locale ?? meta.locale),
						ctx.config.origin
					)
			}
		)
	);
	// The times are the stored code's, the same for an unknown identifier (R18).
	return sent;
}

/**
 * R18/R6: the reset code still live for what this browser typed, read only, so its
 * code step can be shown again. The row exists for unknown identifiers too, so this answers alike
 * whether or not an account uses the identifier. Nothing is sent.
 */
export async function pendingPasswordReset(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined }
): Promise<{ expiresAt: Date; resendAfter: Date } | null> {
	const parsed = parseIdentifier(input.identifier, input.country);
	return parsed.ok ? liveCode(ctx, 'password_reset', parsed.identifier.value) : null;
}

/**
 * R18 step 2: code + new password (R5). Every session of the account is revoked and the owner
 * told; the person is not signed in. Unknown identifiers fail exactly like a wrong code.
 */
export async function confirmPasswordReset(
	ctx: Ctx,
	input: { identifier: string; code: string; newPassword: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = ctx;
	const byIp = await limitAddress(ctx, 'reset-confirm', meta.ip, CONFIRMS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const hashed = await hashNewPassword(ctx, input.newPassword, [identifier.value]);
	if (!hashed.ok) return hashed;

	return db.transaction().execute(async (trx) => {
		const consumed = await consumeCode(
			{ ...ctx, db: trx },
			{ purpose: 'password_reset', identifier: identifier.value, code: input.code }
		);
		if (!consumed.ok) return failures.code(consumed.reason, consumed.attemptsLeft);
		const account = consumed.row.account_id
			? await trx
					.selectFrom('accounts')
					.selectAll()
					.where('id', '=', consumed.row.account_id)
					.executeTakeFirst()
			: undefined;
		// The code was for the contact the account had then; a contact change since revokes it
		// (R17), and this refuses it even so.
		if (!account || (account.email !== identifier.value && account.phone !== identifier.value))
			return failures.code('code_invalid');
		await finishReset({ ...ctx, db: trx }, account, identifier, hashed.hash, 'code', meta);
		return { ok: true as const };
	});
}

/**
 * R18 step 2 by the link (rules §7): token + new password. Opening the link (a GET) changes
 * nothing; only this does. The token is checked against its row before any costly work, and the
 * row is taken by a conditional update, so the link, like the code, is used once.
 */
export async function confirmPasswordResetByLink(
	ctx: Ctx,
	input: { token: string; newPassword: string },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = ctx;
	const byIp = await limitAddress(ctx, 'reset-confirm', meta.ip, CONFIRMS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const row = await liveLinkRow(ctx, input.token);
	if (!row) return linkInvalid();
	const identifier: Identifier = row.identifier.includes('@')
		? { kind: 'email', value: row.identifier }
		: { kind: 'phone', value: row.identifier };
	const hashed = await hashNewPassword(ctx, input.newPassword, [identifier.value]);
	if (!hashed.ok) return hashed;

	return db.transaction().execute(async (trx) => {
		const now = ctx.clock.now().getTime();
		// Single use, and only while the row is the one the link was made for and still live.
		const used = await trx
			.updateTable('verification_codes')
			.set({ consumed_at: now })
			.where('id', '=', row.id)
			.where('code_hash', '=', row.code_hash)
			.where('consumed_at', 'is', null)
			.where('expires_at', '>', now)
			.executeTakeFirst();
		if (used.numUpdatedRows === 0n || !row.account_id) return linkInvalid();
		const account = await trx
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', row.account_id)
			.executeTakeFirst();
		// As for the code: a link to a contact the account no longer has resets nothing (R17).
		if (!account || (account.email !== identifier.value && account.phone !== identifier.value))
			return linkInvalid();
		await finishReset({ ...ctx, db: trx }, account, identifier, hashed.hash, 'link', meta);
		return { ok: true as const };
	});
}

/** The reset code row a token names, if the token is its link and it is still live. */
async function liveLinkRow(ctx: Ctx, token: string) {
	const parts = LINK.exec(token);
	if (!parts) return undefined;
	const [, rowId, mac] = parts as unknown as [string, string, string];
	const row = await ctx.db
		.selectFrom('verification_codes')
		.selectAll()
		.where('id', '=', rowId)
		.executeTakeFirst();
	if (
		!row ||
		row.purpose !== 'password_reset' ||
		row.consumed_at !== null ||
		ctx.clock.now().getTime() >= row.expires_at ||
		!sameSecret(linkMac(ctx, row.id, row.code_hash), mac)
	)
		return undefined;
	return row;
}

/**
 * What a finished reset does, by code or by link: the new password, every session revoked, the
 * owner told, audited, and §7b's freeze lifted (the code or link reached a bound contact).
 */
async function finishReset(
	tx: Ctx,
	account: Account,
	identifier: Identifier,
	passwordHash: string,
	via: 'code' | 'link',
	meta: RequestMeta
): Promise<void> {
	await tx.db
		.updateTable('accounts')
		.set({ password_hash: passwordHash, password_changed_at: tx.clock.now().getTime() })
		.where('id', '=', account.id)
		.execute();
	await invalidateAccountSessions(tx, account.id);
	await enqueueMessage(tx, passwordResetMessage(identifier, asLocale(account.locale)));
	await audit(tx, {
		actorKind: 'account',
		actorId: account.id,
		action: 'account.password_reset',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent), via }
	});
	if (account.frozen_at !== null) await liftFreeze(tx, account.id, { kind: 'reset', via }, meta);
}
