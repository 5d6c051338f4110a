import { m } from '$lib/paraglide/messages';
import { sendCode } from './code-delivery';
import { findAccountByIdentifier } from './accounts';
import type { AppContext } from './app';
import { audit } from './audit';
import type { Account } from './db/schema';
import { failures, type Failure } from './failures';
import { parseIdentifier, type Identifier } from './identifiers';
import { asLocale } from './message-templates';
import { enqueueMessage } from './outbox';
import { checkPassword, hashPassword } from './passwords';
import { limit } from './rate-limit';
import { deviceLabel, type RequestMeta } from './request-meta';
import { invalidateAccountSessions } from './sessions';
import { consumeCode, looksLikeCode } from './verification-codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

const RESETS_PER_IP = { max: 20, windowMs: 3_600_000 };
// R6's 60-second cooldown, applied to every identifier alike so it reveals nothing.
const RESET_COOLDOWN = { max: 1, windowMs: 60_000 };
const CONFIRMS_PER_IP = { max: 60, windowMs: 3_600_000 };

/** Thrown to roll back the rehearsal transaction for identifiers without an account. */
class Rehearsal extends Error {}

/**
 * R18 step 1. The same answer, the same work and the same timing whether or not the identifier
 * has an account: for an unknown one, the code and message are written and rolled back.
 */
export async function requestPasswordReset(
	deps: Deps,
	input: { identifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = deps.database;
	const byIp = await limit(db, deps.clock, `reset:ip:${deps.keys.hmac('ip', meta.ip)}`, RESETS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	const cooldown = await limit(db, deps.clock, `reset:id:${deps.keys.hmac('identifier', identifier.value)}`, RESET_COOLDOWN);
	if (!cooldown.ok) return failures.resendTooSoon(cooldown.retryAfterSeconds);
	const account = await findAccountByIdentifier(db, identifier);
	try {
		await db.transaction().execute(async (trx) => {
			const sent = await sendCode(trx, deps, {
				purpose: 'password_reset',
				to: identifier,
				locale: asLocale(account?.locale ?? meta.locale),
				accountId: account?.id ?? null
			});
			if (!sent.ok || !account) throw new Rehearsal();
		});
	} catch (error) {
		if (!(error instanceof Rehearsal)) throw error;
	}
	return { ok: true };
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
	const byIp = await limit(db, deps.clock, `reset-confirm:ip:${deps.keys.hmac('ip', meta.ip)}`, CONFIRMS_PER_IP);
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
		if (!account) return failures.code('code_invalid');
		await trx.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', account.id).execute();
		await invalidateAccountSessions(trx, account.id);
		await enqueueMessage(trx, deps.clock, resetNotice(account, identifier));
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
