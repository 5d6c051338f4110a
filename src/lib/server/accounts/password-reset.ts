import {
	sendCode,
	asLocale,
	passwordResetMessage,
	enqueueMessage,
	consumeCode,
	looksLikeCode
} from '../messaging';
import { findAccountByIdentifier } from './find';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';
import { hashPassword } from './passwords';
import { newPasswordFailure } from './new-password';
import { limitAddress } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';
import { invalidateAccountSessions } from './sessions';

const RESETS_PER_IP = { max: 20, windowMs: 3_600_000 };
const CONFIRMS_PER_IP = { max: 60, windowMs: 3_600_000 };

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
				deliver: account !== undefined
			}
		)
	);
	// The times are the stored code's, the same for an unknown identifier (R18).
	return sent;
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
	const refused = await newPasswordFailure(
		ctx,
		input.newPassword,
		[identifier.value],
		'newPassword'
	);
	if (refused) return refused;
	const passwordHash = await hashPassword(input.newPassword);

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
		await trx
			.updateTable('accounts')
			.set({ password_hash: passwordHash, password_changed_at: ctx.clock.now().getTime() })
			.where('id', '=', account.id)
			.execute();
		await invalidateAccountSessions({ ...ctx, db: trx }, account.id);
		await enqueueMessage(
			{ ...ctx, db: trx },
			passwordResetMessage(identifier, asLocale(account.locale))
		);
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: 'account',
				actorId: account.id,
				action: 'account.password_reset',
				subjectKind: 'account',
				subjectId: account.id,
				ip: meta.ip,
				details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
			}
		);
		return { ok: true as const };
	});
}
