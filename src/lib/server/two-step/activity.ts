import { audit } from '../core/audit';
import type { Ctx } from '../core/context';
import { deviceLabel, type RequestMeta } from '../core/request-meta';

/** Where a two-step change came from, as the owner's security activity shows it (no address). */
export function seenFrom(meta: RequestMeta): { ipCountry: string | null; device: string | null } {
	return { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) };
}

/**
 * The audit of what an account did to its own two-step verification (or its sign-in's second
 * step), with where it came from (`seenFrom`) after the action's own details.
 */
export function auditOwnTwoStep(
	ctx: Ctx,
	accountId: string,
	action: string,
	meta: RequestMeta,
	details: Record<string, string> = {}
): Promise<void> {
	return audit(ctx, {
		actorKind: 'account',
		actorId: accountId,
		action,
		subjectKind: 'account',
		subjectId: accountId,
		ip: meta.ip,
		details: { ...details, ...seenFrom(meta) }
	});
}
