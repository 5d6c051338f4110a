import { m } from '$lib/paraglide/messages';
import type { z } from 'zod';
import { uploadedFiles } from '../appeals';
import type { UploadedFile } from '../documents';
import { failure, type Failure } from '../failures';

/**
 * Reads a multipart form with text fields checked by a zod schema (unknown fields refused, SPEC
 * §10) and the named file field read into memory. Form actions and /api/v1 share it.
 */
export async function readMultipart<T>(
	request: Request,
	schema: z.ZodType<T>,
	fileField: string,
	options: { requireMultipart?: boolean } = {}
): Promise<{ ok: true; data: T; files: UploadedFile[]; values: Record<string, string> } | (Failure & { values: Record<string, string> })> {
	const type = request.headers.get('content-type') ?? '';
	if (options.requireMultipart && !/^multipart\/form-data\s*;/i.test(type)) {
		return { ...failure(415, 'unsupported_media_type', m.error_unsupported_media_type()), values: {} };
	}
	let form: FormData;
	try {
		form = await request.formData();
	} catch {
		return { ...failure(400, 'invalid_request', m.error_invalid_request()), values: {} };
	}
	const values: Record<string, string> = {};
	for (const key of new Set(form.keys())) {
		if (key === fileField) continue;
		const all = form.getAll(key);
		if (all.length !== 1 || typeof all[0] !== 'string') {
			return { ...failure(400, 'invalid_request', m.error_invalid_request(), { field: key }), values };
		}
		if (all[0] !== '') values[key] = all[0];
	}
	const parsed = schema.safeParse(values);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		const field = issue?.code === 'unrecognized_keys' ? issue.keys.join(',') : String(issue?.path[0] ?? '');
		const message = issue?.code === 'unrecognized_keys' ? m.error_unknown_field() : m.error_invalid_request();
		return { ...failure(400, 'invalid_request', message, field ? { field } : {}), values };
	}
	const files = await uploadedFiles(form, fileField);
	if (!Array.isArray(files)) return { ...files, values };
	return { ok: true, data: parsed.data, files, values };
}
