import type { Ctx } from '../core/context';
import { sendCode, consumeCode, looksLikeCode, smsDestinationProblem } from '../messaging';
import { findAccountByIdentifier } from '../accounts';
import { failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import type { RequestMeta } from '../core/request-meta';

/**
 * R15a proof of control (`check`) and R19's new-contact proof (`appeal`): a code to the
 * identifier, answered the same way whether or not an account has it. The hourly caps per
 * identifier and per network are `sendCode`'s, the same for every purpose.
 *
 * R15a: a `check` code proves control of an account's contact, so it goes only to a contact an
 * account is bound to. For any other identifier the code row is stored and the caps spent as for
 * a real send, but nothing is delivered (as R18's reset does): the answer, the cooldown and a
 * later confirm (any code is a wrong one) are the same, and no one can make the service message
 * strangers. An `appeal` code goes to the person's new contact, which no account has: it is sent.
 */
export async function requestVerificationCode(
	ctx: Ctx,
	input: { identifier: string; purpose: 'check' | 'appeal'; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	// R29: no SMS to a refused number, said before any account look-up (the same answer either way).
	const smsRefused = smsDestinationProblem(ctx.config, identifier);
	if (smsRefused) return smsRefused;
	const deliver =
		input.purpose === 'appeal' || (await findAccountByIdentifier(ctx, identifier)) !== undefined;
	return ctx.db
		.transaction()
		.execute((trx) =>
			sendCode(
				{ ...ctx, db: trx },
				{ purpose: input.purpose, to: identifier, locale: meta.locale, ip: meta.ip, deliver }
			)
		);
}

/** R15a: a right `check` code proves control of the identifier in this browser. */
export async function confirmCheckCode(
	ctx: Ctx,
	identifier: Identifier,
	code: string
): Promise<{ ok: true } | Failure> {
	if (!looksLikeCode(code)) return failures.codeFormat();
	const consumed = await consumeCode(ctx, { purpose: 'check', identifier: identifier.value, code });
	return consumed.ok ? { ok: true } : failures.code(consumed.reason);
}
