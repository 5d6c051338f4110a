import type { CheckReport } from '$lib/types/check-report';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { writeCheckEvent } from './events';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import { addressKey } from '../platform/address-key';
import { countCheck } from '../platform/metrics';
import { confirmCheckCode } from './verification';
import { addressHits, limitAll } from '../platform/limits';
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
	// R15: the network's limits and then the identifier's, counted in one call to the store, as
	// consecutive limits count them: the identifier's only once the network's allowed the check.
	// Parsing counts nothing, so it comes first; a check of no valid identifier counts the network.
	const parsed = parseIdentifier(input.identifier, input.country);
	const byIp = addressHits(ctx, 'check', viewer.address, {
		max: rules.perIp,
		windowMs: rules.windowMs
	});
	const idKey = parsed.ok ? ctx.keys.hmac('identifier', parsed.identifier.value) : '';
	const limited = await limitAll(
		ctx,
		parsed.ok
			? [...byIp, { key: `check:id:${idKey}`, max: rules.perIdentifier, windowMs: rules.windowMs }]
			: byIp
	);
	if (!limited.ok) {
		const network = limited.refusedBy < byIp.length;
		return checkRateLimited(
			ctx,
			ipKey,
			network ? '' : idKey,
			network ? 'network' : 'identifier',
			limited.retryAfterSeconds
		);
	}
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const confirmed = proof ? await confirmCheckCode(ctx, parsed.identifier, proof.code) : null;
	const proven = confirmed?.ok === true;
	const report = await buildReport(
		ctx,
		parsed.identifier,
		input.country,
		proven ? { ...viewer, proven: () => true } : viewer
	);
	recordCheck(
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
function checkRateLimited(
	ctx: Ctx,
	ipKey: string,
	identifierKey: string,
	limit: CheckLimit,
	seconds: number
): Failure {
	recordCheck(ctx, ipKey, identifierKey, 'rate_limited');
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
 * agents, the history in metrics), written behind in batches (`events.ts`), and at once in this
 * process's counter (which instances sum).
 */
function recordCheck(ctx: Ctx, ipKey: string, identifierKey: string, outcome: string): void {
	writeCheckEvent(ctx, {
		at: ctx.clock.now().getTime(),
		ip_key: ipKey,
		identifier_key: identifierKey,
		outcome
	});
	countCheck(ctx.metrics, outcome);
}
