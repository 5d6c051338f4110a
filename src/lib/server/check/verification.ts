import type { Ctx } from '../core/context';
import { sendCode, consumeCode, looksLikeCode } from '../messaging';
import { failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import type { RequestMeta } from '../core/request-meta';

/**
 * R15a proof of control (`check`) and R19's new-contact proof (`appeal`): a code to the
 * identifier, sent and answered the same way whether or not an account has it. The hourly caps
 * per identifier and per network are `sendCode`'s, the same for every purpose.
 */
export async function requestVerificationCode(
	ctx: Ctx,
	input: { identifier: string; purpose: 'check' | 'appeal'; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	return ctx.db
		.transaction()
		.execute((trx) =>
			sendCode(
				{ ...ctx, db: trx },
				{ purpose: input.purpose, to: identifier, locale: meta.locale, ip: meta.ip }
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
