import { m } from '$lib/paraglide/messages';
import { sendCode } from '../messaging/code-delivery';
import { findAccountByIdentifier } from './find';
import type { AppContext } from '../core/context';
import { audit } from '../core/audit';
import type { Account } from '../db/schema';
import { failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import { asLocale } from '../messaging/templates';
import { enqueueMessage } from '../messaging/outbox';
import { checkPassword, hashPassword } from './passwords';
import { limitAddress } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';
import { invalidateAccountSessions } from './sessions';
import { consumeCode, looksLikeCode } from '../messaging/codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

const RESETS_PER_IP = { max: 20, windowMs: 3_600_000 };
const CONFIRMS_PER_IP = { max: 60, windowMs: 3_600_000 };

/**
 * R18 step 1. The same answer, the same work and the same stored state whether or not the
 * identifier has an account: a code row is written either way (so the confirm step counts
 * attempts, expires and locks alike), and the message is queued only for an account.
 */
export async function requestPasswordReset(
	deps: Deps,
	input: { identifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = deps.database;
	const byIp = await limitAddress(db, deps.clock, deps.keys, 'reset', meta.ip, RESETS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	const account = await findAccountByIdentifier(db, identifier);
	// R6's cooldown and the hourly caps apply alike: the code row exists for unknown identifiers.
	const sent = await db.transaction().execute((trx) =>
		sendCode(trx, deps, {
			purpose: 'password_reset',
			to: identifier,
			locale: asLocale(account?.locale ?? meta.locale),
			ip: meta.ip,
			accountId: account?.id ?? null,
			deliver: account !== undefined
		})
	);
	return sent.ok ? { ok: true } : sent;
}

/**
 * R18 step 2: code + new password (R5). Every session of the account is revoked and the owner
 * told; the person is not signed in. Unknown identifiers fail exactly like a wrong code.
 */
export async function confirmPasswordReset(
	deps: Deps,
	input: { identifier: string; code: string; newPassword: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = deps.database;
	const byIp = await limitAddress(db, deps.clock, deps.keys, 'reset-confirm', meta.ip, CONFIRMS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const problem = checkPassword(input.newPassword, { minLength: deps.config.passwordMinLength, identifiers: [identifier.value] });
	if (problem) return failures.password(problem, deps.config.passwordMinLength, 'newPassword');
	const passwordHash = await hashPassword(input.newPassword);

	return db.transaction().execute(async (trx) => {
		const consumed = await consumeCode({ db: trx, clock: deps.clock, keys: deps.keys }, { purpose: 'password_reset', identifier: identifier.value, code: input.code });
		if (!consumed.ok) return failures.code(consumed.reason);
		const account = consumed.row.account_id
			? await trx.selectFrom('accounts').selectAll().where('id', '=', consumed.row.account_id).executeTakeFirst()
			: undefined;
		// The code was for the contact the account had then; a contact change since revokes it
		// (R17), and this refuses it even so.
		if (!account || (account.email !== identifier.value && account.phone !== identifier.value)) return failures.code('code_invalid');
		await trx.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', account.id).execute();
		await invalidateAccountSessions(trx, account.id);
		await enqueueMessage(trx, deps, resetNotice(account, identifier));
		await audit(trx, deps.clock, {
			actorKind: 'account',
			actorId: account.id,
			action: 'account.password_reset',
			subjectKind: 'account',
			subjectId: account.id,
			ip: meta.ip,
			details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
		});
		return { ok: true as const };
	});
}

function resetNotice(account: Account, to: Identifier) {
	const locale = asLocale(account.locale);
	return {
		channel: to.kind === 'email' ? ('email' as const) : ('sms' as const),
		recipient: to.value,
		purpose: 'password_reset_done',
		locale,
		subject: to.kind === 'email' ? m.msg_password_reset_subject({}, { locale }) : null,
		body: m.msg_password_reset({}, { locale })
	};
}
