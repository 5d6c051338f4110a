import { json } from '@sveltejs/kit';
import type { z } from 'zod';
import { m } from '$lib/paraglide/messages';
import type { Failure } from '../core/failures';

/** API (docs/api.md): every error is `{"error": {"code", "message", "fields"?}}` with a stable code. */
interface ApiErrorBody {
	error: { code: string; message: string; fields?: Record<string, string> } & Record<
		string,
		unknown
	>;
}

export function apiError(
	status: number,
	code: string,
	message: string,
	extra: { fields?: Record<string, string>; headers?: Record<string, string> } & Record<
		string,
		unknown
	> = {}
): Response {
	const { headers, ...rest } = extra;
	const body: ApiErrorBody = { error: { code, message, ...rest } };
	return json(body, { status, headers });
}

/** The field a zod issue is about ("" for the body itself); unknown fields are named together. */
export function issueField(issue: z.ZodError['issues'][number]): string {
	return issue.code === 'unrecognized_keys' ? issue.keys.join(',') : String(issue.path[0] ?? '');
}

/** The first message zod gives for each field, keyed by `issueField`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const issue of error.issues) {
		fields[issueField(issue)] ??=
			issue.code === 'unrecognized_keys' ? m.error_unknown_field() : issue.message;
	}
	return fields;
}

/** Reads a JSON body, refusing anything that is not a JSON object sent as application/json. */
export async function readJsonObject(
	request: Request
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
	const type = request.headers.get('content-type') ?? '';
	if (!/^application\/json\s*(;|$)/i.test(type)) {
		return {
			ok: false,
			response: apiError(415, 'unsupported_media_type', m.error_unsupported_media_type())
		};
	}
	try {
		const value: unknown = await request.json();
		if (typeof value !== 'object' || value === null || Array.isArray(value))
			throw new Error('not an object');
		return { ok: true, value };
	} catch {
		return { ok: false, response: apiError(400, 'invalid_json', m.error_invalid_json()) };
	}
}

/** A service failure as an API error, with `Retry-After` when the failure says when to retry. */
export function failureResponse(f: Failure): Response {
	return apiError(f.status, f.code, f.message, {
		...(f.field ? { fields: { [f.field]: f.message } } : {}),
		...(f.retryAfterSeconds
			? // The HTTP contract (docs/api.md) names it `retryAfter`; it is seconds, as the header.
				{ retryAfter: f.retryAfterSeconds, headers: { 'retry-after': String(f.retryAfterSeconds) } }
			: {}),
		...f.extra
	});
}

/** Parses a JSON body with a zod schema, answering 400/415 with field messages when it does not fit. */
export async function parseJsonBody<T>(
	request: Request,
	schema: z.ZodType<T>
): Promise<{ ok: true; data: T } | { ok: false; response: Response }> {
	const body = await readJsonObject(request);
	if (!body.ok) return body;
	const input = schema.safeParse(body.value);
	if (!input.success) {
		return {
			ok: false,
			response: apiError(400, 'invalid_request', m.error_invalid_request(), {
				fields: fieldErrors(input.error)
			})
		};
	}
	return { ok: true, data: input.data };
}
