import type { AppContext } from './app';
import { sendCode } from './code-delivery';
import { failures, type Failure } from './failures';
import { parseIdentifier, type Identifier } from './identifiers';
import { limit } from './rate-limit';
import type { RequestMeta } from './request-meta';
import { consumeCode, looksLikeCode } from './verification-codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

// Codes cost a message each: per address and per identifier, every hour.
const CODES_PER_IP = { max: 20, windowMs: 3_600_000 };
const CODES_PER_IDENTIFIER = { max: 6, windowMs: 3_600_000 };

/**
 * R15a proof of control (`check`) and R19's new-contact proof (`appeal`): a code to the
 * identifier, sent and answered the same way whether or not an account has it.
 */
export async function requestVerificationCode(
	deps: Deps,
	input: { identifier: string; purpose: 'check' | 'appeal'; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; expiresAt: Date; resendAfter: Date } | Failure> {
	const { db } = deps.database;
	const byIp = await limit(db, deps.clock, `code:ip:${deps.keys.hmac('ip', meta.ip)}`, CODES_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	const byId = await limit(db, deps.clock, `code:id:${deps.keys.hmac('identifier', identifier.value)}`, CODES_PER_IDENTIFIER);
	if (!byId.ok) return failures.rateLimited(byId.retryAfterSeconds);
	return db.transaction().execute((trx) => sendCode(trx, deps, { purpose: input.purpose, to: identifier, locale: meta.locale }));
}

/** R15a: a right `check` code proves control of the identifier in this browser. */
export async function confirmCheckCode(
	deps: Deps,
	input: { identifier: string; code: string; country?: string | undefined }
): Promise<{ ok: true; identifier: Identifier } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const consumed = await consumeCode(
		{ db: deps.database.db, clock: deps.clock, keys: deps.keys },
		{ purpose: 'check', identifier: parsed.identifier.value, code: input.code }
	);
	if (!consumed.ok) return failures.code(consumed.reason);
	return { ok: true, identifier: parsed.identifier };
}
