import type { CheckReport } from '$lib/types/check-report';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { writeCheckEvent } from './events';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import { addressKey } from '../platform/address-key';
import { countCheck } from '../platform/metrics';
import { confirmCheckCode } from './verification';
import { limit, limitAddress } from '../platform/limits';
import { buildReport, type Viewer } from './report';

/** Which of the check's two limits refused a check (R15): the asking network's, or the identifier's. */
type CheckLimit = 'network' | 'identifier';

/** `proven`: the identifier a right code proved control of in this request (R15a), else null. */
export type CheckOutcome =
	| { ok: true; report: CheckReport; proven: Identifier | null }
	| (Failure & { report?: CheckReport });

/**
 * The one entry point of the check for the form actions and the JSON API alike (R14): rate
 * limits (R15) → parse → optional proof (R15a: a `check` code) → report → count. The public
 * check and the verified one are the same function, so every disclosed report is limited and
 * counted whichever way it was asked for. A wrong code still answers the public report.
 */
export async function runCheck(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	viewer: Viewer,
	proof?: { code: string }
): Promise<CheckOutcome> {
	const rules = ctx.config.checkRateLimit;
	const ipKey = addressKey(ctx.keys, viewer.address);
	const byIp = await limitAddress(ctx, 'check', viewer.address, {
		max: rules.perIp,
		windowMs: rules.windowMs
	});
	if (!byIp.ok) return checkRateLimited(ctx, ipKey, '', 'network', byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const idKey = ctx.keys.hmac('identifier', parsed.identifier.value);
	const byId = await limit(ctx, `check:id:${idKey}`, {
		max: rules.perIdentifier,
		windowMs: rules.windowMs
	});
	if (!byId.ok) return checkRateLimited(ctx, ipKey, idKey, 'identifier', byId.retryAfterSeconds);
	const confirmed = proof ? await confirmCheckCode(ctx, parsed.identifier, proof.code) : null;
	const proven = confirmed?.ok === true;
	const report = await buildReport(
		ctx,
		parsed.identifier,
		input.country,
		proven ? { ...viewer, proven: () => true } : viewer
	);
	await recordCheck(
		ctx,
		ipKey,
		idKey,
		report.registered === undefined ? 'hidden' : report.registered ? 'registered' : 'unregistered'
	);
	if (confirmed && !confirmed.ok) return { ...confirmed, report };
	return { ok: true, report, proven: proven ? parsed.identifier : null };
}

/**
 * R15: a refused check is counted too, so bursts and rejections show in metrics and to agents.
 * `limit` says which limit refused it, so the page blocks only what is blocked: the identifier
 * limit counts checks of that identifier whether or not it is registered, so naming it tells
 * nothing about an account.
 */
async function checkRateLimited(
	ctx: Ctx,
	ipKey: string,
	identifierKey: string,
	limit: CheckLimit,
	seconds: number
): Promise<Failure> {
	await recordCheck(ctx, ipKey, identifierKey, 'rate_limited');
	const minutes = Math.ceil(seconds / 60);
	return failure(
		429,
		'rate_limited',
		limit === 'network'
			? m.error_check_rate_limited({ minutes })
			: m.ck_rate_limited_identifier({ minutes }),
		{ retryAfterSeconds: seconds, extra: { limit } }
	);
}

/**
 * R15: every check counted, by keyed hashes only: in the shared database (bursts per address for
 * agents, the history in metrics) and in this process's counter (which instances sum).
 */
async function recordCheck(
	ctx: Ctx,
	ipKey: string,
	identifierKey: string,
	outcome: string
): Promise<void> {
	await writeCheckEvent(ctx.db, {
		at: ctx.clock.now().getTime(),
		ip_key: ipKey,
		identifier_key: identifierKey,
		outcome
	});
	countCheck(ctx.metrics, outcome);
}
