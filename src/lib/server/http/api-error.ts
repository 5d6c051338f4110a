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

/** What is wrong with one field, in the request's language (zod's own messages are English only). */
function issueMessage(issue: z.ZodError['issues'][number]): string {
	if (issue.code === 'unrecognized_keys') return m.error_unknown_field();
	if (issue.code === 'invalid_type' && issue.input === undefined) return m.ap_field_required();
	if (issue.code === 'too_big') return m.ap_field_too_long();
	return m.ap_field_malformed();
}

/** Every field a zod error is about, each with its first message, keyed by `issueField`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const issue of error.issues) fields[issueField(issue)] ??= issueMessage(issue);
	return fields;
}

/**
 * The fields a failure names, field → message: all of them when a schema refused several
 * (`fields`, or `extra.fields` from a multipart body), else the one `field`; none when the
 * failure is not about a field.
 */
export function failureFields(
	f: Failure & { fields?: Record<string, string> }
): Record<string, string> | undefined {
	const several = f.fields ?? f.extra?.fields;
	if (several && typeof several === 'object') return several as Record<string, string>;
	return f.field ? { [f.field]: f.message } : undefined;
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
	const fields = failureFields(f);
	return apiError(f.status, f.code, f.message, {
		...(fields ? { fields } : {}),
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
