import type { CheckInput } from '$lib/schemas/check';
import type { ApiError, CheckReport } from '$lib/types/check-report';
import { m } from '$lib/paraglide/messages';

export type CheckResult = { ok: true; report: CheckReport } | { ok: false; error: ApiError };

/** R14: the enhanced page asks the JSON API, so the identifier never lands in a URL. */
export async function postCheck(input: CheckInput, fetchFn: typeof fetch = fetch): Promise<CheckResult> {
	const response = await fetchFn('/api/v1/check', {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json' },
		body: JSON.stringify(input)
	});
	const body: unknown = await response.json().catch(() => null);
	if (response.ok) return { ok: true, report: body as CheckReport };
	const error = (body as { error?: ApiError } | null)?.error;
	return {
		ok: false,
		error: error ?? { code: 'unavailable', message: m.error_unavailable() }
	};
}
