import type { CheckInput } from '$lib/schemas/check';
import type { ApiError, CheckReport } from '$lib/types/check-report';
import { m } from '$lib/paraglide/messages';

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

async function post<T>(path: string, body: unknown, fetchFn: typeof fetch): Promise<ApiResult<T>> {
	const response = await fetchFn(path, {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json' },
		body: JSON.stringify(body)
	});
	const data: unknown = await response.json().catch(() => null);
	if (response.ok) return { ok: true, data: data as T };
	const error = (data as { error?: ApiError } | null)?.error;
	const retryAfterSeconds = Number(response.headers.get('retry-after')) || undefined;
	return {
		ok: false,
		error: error
			? { ...error, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) }
			: { code: 'unavailable', message: m.error_unavailable() }
	};
}

/** R14: the enhanced page asks the JSON API, so the identifier never lands in a URL. */
export function postCheck(input: CheckInput, fetchFn: typeof fetch = fetch) {
	return post<CheckReport>('/api/v1/check', input, fetchFn);
}

/** R15a: "Verify it's you": a `check` code to the identifier… */
export function postCheckCode(input: CheckInput, fetchFn: typeof fetch = fetch) {
	return post<{ expiresAt: string; resendAfter: string }>(
		'/api/v1/verifications',
		{ ...input, purpose: 'check' },
		fetchFn
	);
}

/** …and the verified report once it is confirmed. */
export function confirmCheckCode(
	input: CheckInput & { code: string },
	fetchFn: typeof fetch = fetch
) {
	return post<CheckReport>(
		'/api/v1/verifications/confirm',
		{ ...input, purpose: 'check' },
		fetchFn
	);
}
