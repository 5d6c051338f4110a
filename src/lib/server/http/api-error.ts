import { json } from '@sveltejs/kit';
import type { z } from 'zod';
import { m } from '$lib/paraglide/messages';

/** SPEC §10: every error is `{"error": {"code", "message", "fields"?}}` with a stable code. */
export interface ApiErrorBody {
	error: { code: string; message: string; fields?: Record<string, string> } & Record<string, unknown>;
}

export function apiError(
	status: number,
	code: string,
	message: string,
	extra: { fields?: Record<string, string>; headers?: Record<string, string> } & Record<string, unknown> = {}
): Response {
	const { headers, ...rest } = extra;
	const body: ApiErrorBody = { error: { code, message, ...rest } };
	return json(body, { status, headers });
}

/** The first message zod gives for each field, keyed by field name ("" for the body itself). */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const issue of error.issues) {
		const key =
			issue.code === 'unrecognized_keys' ? issue.keys.join(',') : String(issue.path[0] ?? '');
		fields[key] ??= issue.code === 'unrecognized_keys' ? m.error_unknown_field() : issue.message;
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
		if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
		return { ok: true, value };
	} catch {
		return { ok: false, response: apiError(400, 'invalid_json', m.error_invalid_json()) };
	}
}
