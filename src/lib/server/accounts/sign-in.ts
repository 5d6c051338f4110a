import { findAccountByIdentifier } from './find';
import { addressKey, wideAddressKey } from '../platform/address-key';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { Account } from '../db/schema';
import { failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';
import { verifyAgainstNothing, verifyPassword } from './passwords';
import { clear, hit, refund, whileBlocked } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';

// Growing delays after repeated failures: per identifier from the 5th failure, per network (an
// IPv4 address or IPv6 /64) from the 20th, per IPv6 /48 from the 77th (4 × the /64's free
// failures, the wider tier every per-network limit has, `limitAddress`); 15 s doubling up to 15 min. Counted for unknown identifiers too, so the throttle
// itself never tells registered from unregistered. A browser the account knows (§7a) has its own
// counter per (account, device) instead, with the identifier's delays.
const FAILURE_WINDOW_MS = 3_600_000;
const IDENTIFIER_FREE_FAILURES = 4;
const ADDRESS_FREE_FAILURES = 19;
const WIDE_NETWORK_FREE_FAILURES = 4 * ADDRESS_FREE_FAILURES;
const BASE_DELAY_MS = 15_000;
const MAX_DELAY_MS = 15 * 60_000;

export function delayAfter(failures: number, free: number): number {
	if (failures <= free) return 0;
	return Math.min(BASE_DELAY_MS * 2 ** (failures - free - 1), MAX_DELAY_MS);
}

/** One failure counter of a sign-in flow, with the delay (or lock) its failures start. */
export interface FailureRule {
	failures: string;
	block: string;
	windowMs: number;
	/** The delay the attempt with this many failures (itself included) starts if it fails. */
	delayAfter: (failures: number) => number;
	/** Per identifier a success forgets the failures; per address it only takes its own back. */
	clearOnSuccess: boolean;
}

export type Attempt =
	| { ok: false; retryAfterSeconds: number }
	| { ok: true; failures: number[]; succeeded: () => Promise<void> };

/**
 * Counts a sign-in attempt *before* the argon2 (and TOTP) work. Read before and written after,
 * 100 guesses sent at once were all evaluated against a lock of 5. Now:
 * - every attempt is a failure until it proves otherwise (the atomic `hit`);
 * - an attempt that would start a delay (or lock) if it failed first takes that delay itself:
 *   `hit` on the block key is the atomic claim, so one such attempt per delay is evaluated and
 *   the others are refused as a blocked one is;
 * - a success, and a refused attempt, is refunded, so the counter still means "failures".
 * A refund (`refund` in limits.ts) takes the hit back from the window it was counted in.
 */
export async function beginAttempt(ctx: Ctx, rules: FailureRule[]): Promise<Attempt> {
	const { clock } = ctx;
	const counted: {
		rule: FailureRule;
		failures: number;
		windowResetAt: number;
		holdsBlock: boolean;
	}[] = [];
	const giveBack = (entry: (typeof counted)[number]) =>
		refund(ctx, entry.rule.failures, entry.windowResetAt);
	for (const rule of rules) {
		const window = await hit(ctx, rule.failures, rule.windowMs);
		counted.push({
			rule,
			failures: window.count,
			windowResetAt: window.resetAt,
			holdsBlock: false
		});
	}
	for (const entry of counted) {
		const delay = entry.rule.delayAfter(entry.failures);
		if (delay === 0) continue;
		const block = await hit(ctx, entry.rule.block, delay);
		if (block.count === 1) {
			entry.holdsBlock = true;
			continue;
		}
		for (const taken of counted) {
			await giveBack(taken);
			if (taken.holdsBlock) await clear(ctx, taken.rule.block);
		}
		return {
			ok: false,
			retryAfterSeconds: Math.ceil((block.resetAt - clock.now().getTime()) / 1000)
		};
	}
	return {
		ok: true,
		failures: counted.map((entry) => entry.failures),
		async succeeded() {
			for (const entry of counted) {
				if (entry.rule.clearOnSuccess) await clear(ctx, entry.rule.failures);
				else await giveBack(entry);
				if (entry.holdsBlock) await clear(ctx, entry.rule.block);
			}
		}
	};
}

/**
 * The sign-in delays for one subject (an identifier; for two-step, the account) and one network:
 * the subject's counter from its 5th failure (a success forgets it), the network's from its 20th,
 * and for IPv6 the /48's from its 77th, so rotating /64s inside one site meets a delay too. The
 * password step (`signin`), the second step and turning TOTP off (`2fa`) all count with these.
 * The subject's rule comes first.
 */
export function signInRules(
	ctx: Pick<Ctx, 'keys'>,
	subject: { failures: string; block: string },
	network: { name: 'signin' | '2fa'; ip: string }
): FailureRule[] {
	const narrow = addressKey(ctx.keys, network.ip);
	const wide = wideAddressKey(ctx.keys, network.ip);
	const rules: FailureRule[] = [
		{
			...subject,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: (n) => delayAfter(n, IDENTIFIER_FREE_FAILURES),
			clearOnSuccess: true
		},
		{
			failures: `${network.name}-fail:ip:${narrow}`,
			block: `${network.name}-block:ip:${narrow}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: (n) => delayAfter(n, ADDRESS_FREE_FAILURES),
			clearOnSuccess: false
		}
	];
	if (wide !== null)
		rules.push({
			failures: `${network.name}-fail:ip48:${wide}`,
			block: `${network.name}-block:ip48:${wide}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: (n) => delayAfter(n, WIDE_NETWORK_FREE_FAILURES),
			clearOnSuccess: false
		});
	return rules;
}

/**
 * §7a: the failure budget of a browser that has signed in to this account before (its device
 * cookie is listed in `account_devices`). Failures from other browsers and networks never throttle
 * it; it has the same growing delays as an identifier, counted per (account, device), so a stolen
 * device cookie alone is still bounded.
 */
function knownDeviceRules(ctx: Ctx, accountId: string, deviceId: string): FailureRule[] {
	const key = ctx.keys.hmac('sign-in-device', accountId, deviceId);
	return [
		{
			failures: `signin-fail:dev:${key}`,
			block: `signin-block:dev:${key}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: (n) => delayAfter(n, IDENTIFIER_FREE_FAILURES),
			clearOnSuccess: true
		}
	];
}

/** Whether this browser has signed in to the account before; the same query for no account. */
async function isKnownDevice(
	ctx: Ctx,
	accountId: string | null,
	deviceId: string
): Promise<boolean> {
	const row = await ctx.db
		.selectFrom('account_devices')
		.select('device_id')
		.where('account_id', '=', accountId ?? '')
		.where('device_id', '=', deviceId)
		.executeTakeFirst();
	return row !== undefined && accountId !== null;
}

/**
 * Sign-in for buyers. The answer for a wrong password, an unknown identifier and a disabled
 * account is the same `invalid_credentials`, and takes the same argon2 time. A frozen account
 * (§7b) answers `account_frozen` only to the right password.
 */
export async function signIn(
	ctx: Ctx,
	input: { identifier: string; password: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; account: Account } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	const idKey = parsed.ok ? ctx.keys.hmac('identifier', parsed.identifier.value) : null;
	const networkRules = signInRules(
		ctx,
		{ failures: `signin-fail:id:${idKey}`, block: `signin-block:id:${idKey}` },
		{ name: 'signin', ip: meta.ip }
	);

	// The account and whether this browser signed in to it before are read first (the same two
	// queries for an unknown identifier): a known browser has its own failure budget (§7a).
	const account = parsed.ok ? await findAccountByIdentifier(ctx, parsed.identifier) : undefined;
	const known = parsed.ok && (await isKnownDevice(ctx, account?.id ?? null, meta.deviceId));
	const rules = known && account ? knownDeviceRules(ctx, account.id, meta.deviceId) : networkRules;

	// Rate-limit check before the argon2 work an attacker could use (without an identifier, only
	// the network's counters: every rule but the subject's).
	const blocks = (parsed.ok ? rules : networkRules.slice(1)).map((rule) => rule.block);
	for (const key of blocks) {
		const blocked = await whileBlocked(ctx, key);
		if (!blocked.ok) return failures.rateLimited(blocked.retryAfterSeconds);
	}
	if (!parsed.ok) return failures.invalidCredentials();

	// Counted before the argon2 work, for unknown identifiers alike (the same queries either way).
	const attempt = await beginAttempt(ctx, rules);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);

	const valid = account
		? await verifyPassword(account.password_hash, input.password)
		: await verifyAgainstNothing(input.password);

	if (!account || !valid || account.status === 'disabled') {
		if (account) {
			await audit(ctx, {
				actorKind: 'anonymous',
				actorId: null,
				action: 'session.sign_in_failed',
				subjectKind: 'account',
				subjectId: account.id,
				ip: meta.ip,
				details: { failuresInWindow: attempt.failures[0]! }
			});
		}
		return failures.invalidCredentials();
	}
	await attempt.succeeded();
	// §7b: the owner froze the account. Only the right password learns it: a wrong one was
	// answered above exactly as for any account.
	if (account.frozen_at !== null) return failures.accountFrozen();
	// Not signed in yet: with two-step on a second factor follows; `auditSignedIn` marks the
	// moment the session really starts.
	return { ok: true, account };
}

/**
 * The owner's security activity records a sign-in when the session starts: after the password
 * with two-step off, after the second factor with it on, or after a passkey alone.
 */
export async function auditSignedIn(
	ctx: Ctx,
	account: Account,
	method: 'password' | 'totp' | 'recovery_code' | 'passkey',
	meta: RequestMeta
): Promise<void> {
	await audit(ctx, {
		actorKind: 'account',
		actorId: account.id,
		action: 'session.signed_in',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: { method, ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
	});
}
