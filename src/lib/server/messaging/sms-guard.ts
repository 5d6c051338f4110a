import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Ctx } from '../core/context';
import type { Config } from '../core/config';
import { failures, type Failure } from '../core/failures';
import type { Identifier } from '../core/identifiers';
import { limit, peek } from '../platform/limits';

/**
 * R29 SMS budget: what an SMS code may cost, so nobody can pump the SMS bill (docs/rules.md §3).
 * Email codes pass untouched.
 */

/** Number types that bill the sender or share the cost with the receiver (libphonenumber's type). */
const COSTLY_TYPES = new Set(['PREMIUM_RATE', 'SHARED_COST']);

/**
 * R29: an SMS destination the service refuses — a country not in SMS_ALLOWED_COUNTRIES, or a
 * premium-rate or shared-cost number — as `sms_country_not_supported`; `null` for an email or an
 * allowed number. Pure (no store, no account): the code-sending entries ask it before any account
 * look-up, so a registered and an unregistered number get the same answer.
 */
export function smsDestinationProblem(
	config: Pick<Config, 'sms'>,
	to: Identifier,
	field = 'identifier'
): Failure | null {
	if (to.kind !== 'phone') return null;
	const number = parsePhoneNumberFromString(to.value);
	const country = number?.country;
	const type = number?.getType();
	if (!country || !config.sms.allowedCountries.has(country) || (type && COSTLY_TYPES.has(type)))
		return failures.smsCountryNotSupported(field);
	return null;
}

/** R29: sends an hour to numbers that differ only in their last 4 digits (one block of 10,000). */
const PREFIX_CAP = { max: 5, windowMs: 3_600_000 };
/** How many trailing digits make a number block. */
const BLOCK_DIGITS = 4;

/**
 * R29: one send to a phone number's block (all but its last 4 digits), keyed by an HMAC. Counted
 * for every send, delivered or not (R18: the same answers whether or not a number has an account).
 */
export async function smsPrefixCap(ctx: Ctx, to: Identifier): Promise<Failure | null> {
	if (to.kind !== 'phone') return null;
	const block = ctx.keys.hmac('sms-block', to.value.slice(0, -BLOCK_DIGITS));
	const allowed = await limit(ctx, `sms-block:${block}`, PREFIX_CAP);
	return allowed.ok ? null : failures.rateLimited(allowed.retryAfterSeconds);
}

const DAY_MS = 86_400_000;

/** The store key of today's budget (UTC) and the milliseconds left in that day. */
function budgetWindow(now: Date): { key: string; msLeft: number } {
	const dayStart = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
	const date = new Date(dayStart).toISOString().slice(0, 10);
	return { key: `sms-budget:${date}`, msLeft: dayStart + DAY_MS - now.getTime() };
}

/**
 * R29: SMS_DAILY_BUDGET caps the SMS sent in one UTC day across every instance (the shared
 * rate-limit store: Redis, or the rate_limits table on PostgreSQL). A delivered SMS spends one;
 * an undelivered send (no account, R18) spends none but is refused alike once the day's budget is
 * spent, so the answer never tells whether a number is registered.
 */
export async function smsBudget(
	ctx: Ctx,
	to: Identifier,
	deliver: boolean
): Promise<Failure | null> {
	if (to.kind !== 'phone') return null;
	const { key, msLeft } = budgetWindow(ctx.clock.now());
	const rule = { max: ctx.config.sms.dailyBudget, windowMs: msLeft };
	if (deliver) return (await limit(ctx, key, rule)).ok ? null : failures.smsUnavailable();
	const spent = await peek(ctx, key);
	return spent && spent.count >= rule.max ? failures.smsUnavailable() : null;
}

/** R29: whether today's SMS budget (UTC) is used up, for the support console's banner. */
export async function smsBudgetSpent(ctx: Pick<Ctx, 'limits' | 'clock' | 'db' | 'config'>) {
	const spent = await peek(ctx, budgetWindow(ctx.clock.now()).key);
	return !!spent && spent.count >= ctx.config.sms.dailyBudget;
}
