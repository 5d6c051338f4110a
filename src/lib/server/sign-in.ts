import { findAccountByIdentifier } from './accounts';
import type { AppContext } from './app';
import { audit } from './audit';
import type { Account } from './db/schema';
import { failures, type Failure } from './failures';
import { parseIdentifier } from './identifiers';
import { verifyAgainstNothing, verifyPassword } from './passwords';
import { blockUntil, clear, hit, peek } from './rate-limit';
import { deviceLabel, type RequestMeta } from './request-meta';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys'>;

// Growing delays after repeated failures: per identifier from the 5th failure, per address from
// the 20th; 15 s doubling up to 15 min. Counted for unknown identifiers too, so the throttle
// itself never tells registered from unregistered.
const FAILURE_WINDOW_MS = 3_600_000;
const IDENTIFIER_FREE_FAILURES = 4;
const ADDRESS_FREE_FAILURES = 19;
const BASE_DELAY_MS = 15_000;
const MAX_DELAY_MS = 15 * 60_000;

export function delayAfter(failures: number, free: number): number {
	if (failures <= free) return 0;
	return Math.min(BASE_DELAY_MS * 2 ** (failures - free - 1), MAX_DELAY_MS);
}

/**
 * Sign-in for buyers. The answer for a wrong password, an unknown identifier and a disabled
 * account is the same `invalid_credentials`, and takes the same argon2 time.
 */
export async function signIn(
	deps: Deps,
	input: { identifier: string; password: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; account: Account } | Failure> {
	const { db } = deps.database;
	const parsed = parseIdentifier(input.identifier, input.country);
	const idKey = parsed.ok ? deps.keys.hmac('identifier', parsed.identifier.value) : null;
	const ipKey = deps.keys.hmac('ip', meta.ip);
	const keys = {
		idFailures: `signin-fail:id:${idKey}`,
		idBlock: `signin-block:id:${idKey}`,
		ipFailures: `signin-fail:ip:${ipKey}`,
		ipBlock: `signin-block:ip:${ipKey}`
	};

	// Rate-limit check first, before any work an attacker could use.
	const now = deps.clock.now().getTime();
	for (const key of idKey ? [keys.idBlock, keys.ipBlock] : [keys.ipBlock]) {
		const blocked = await peek(db, deps.clock, key);
		if (blocked) return failures.rateLimited(Math.ceil((blocked.resetAt - now) / 1000));
	}
	if (!parsed.ok) return failures.invalidCredentials();

	const account = await findAccountByIdentifier(db, parsed.identifier);
	const valid = account
		? await verifyPassword(account.password_hash, input.password)
		: await verifyAgainstNothing(input.password);

	if (!account || !valid || account.status === 'disabled') {
		const idWindow = await hit(db, deps.clock, keys.idFailures, FAILURE_WINDOW_MS);
		const ipWindow = await hit(db, deps.clock, keys.ipFailures, FAILURE_WINDOW_MS);
		const idDelay = delayAfter(idWindow.count, IDENTIFIER_FREE_FAILURES);
		const ipDelay = delayAfter(ipWindow.count, ADDRESS_FREE_FAILURES);
		if (idDelay) await blockUntil(db, keys.idBlock, now + idDelay);
		if (ipDelay) await blockUntil(db, keys.ipBlock, now + ipDelay);
		if (account) {
			await audit(db, deps.clock, {
				actorKind: 'anonymous',
				actorId: null,
				action: 'session.sign_in_failed',
				subjectKind: 'account',
				subjectId: account.id,
				ip: meta.ip,
				details: { failuresInWindow: idWindow.count }
			});
		}
		return failures.invalidCredentials();
	}
	await clear(db, keys.idFailures);
	await audit(db, deps.clock, {
		actorKind: 'account',
		actorId: account.id,
		action: 'session.signed_in',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
	});
	return { ok: true, account };
}
