import { m } from '$lib/paraglide/messages';
import type { z } from 'zod';
import { uploadedFiles } from '../appeals';
import { MAX_DOCUMENT_BYTES, MAX_DOCUMENTS_PER_UPLOAD, type UploadedFile } from '../documents';
import { failure, type Failure } from '../failures';

/**
 * The whole body, read before any parsing: three documents at the limit plus the text fields
 * and part headers. Checked here as well as by adapter-node's BODY_SIZE_LIMIT, so a deployment
 * that raises that limit (appeals need it raised) still never buffers more than this.
 */
export const MAX_MULTIPART_BYTES = MAX_DOCUMENTS_PER_UPLOAD * MAX_DOCUMENT_BYTES + 256 * 1024;

/** The body's bytes, or null as soon as it passes `max`: by its Content-Length, or while streaming. */
async function readBounded(request: Request, max: number): Promise<Blob | null> {
	const declared = Number(request.headers.get('content-length') ?? Number.NaN);
	if (declared > max) {
		await request.body?.cancel().catch(() => {});
		return null;
	}
	if (!request.body) return new Blob([]);
	const reader = request.body.getReader();
	const chunks: BlobPart[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > max) {
			await reader.cancel().catch(() => {});
			return null;
		}
		chunks.push(new Uint8Array(value));
	}
	return new Blob(chunks);
}

/**
 * Reads a multipart form with text fields checked by a zod schema (unknown fields refused, SPEC
 * §10) and the named file field read into memory. Form actions and /api/v1 share it.
 */
export async function readMultipart<T>(
	request: Request,
	schema: z.ZodType<T>,
	fileField: string,
	options: { requireMultipart?: boolean; maxBytes?: number } = {}
): Promise<{ ok: true; data: T; files: UploadedFile[]; values: Record<string, string> } | (Failure & { values: Record<string, string> })> {
	const type = request.headers.get('content-type') ?? '';
	if (options.requireMultipart && !/^multipart\/form-data\s*;/i.test(type)) {
		return { ...failure(415, 'unsupported_media_type', m.error_unsupported_media_type()), values: {} };
	}
	let form: FormData;
	try {
		const body = await readBounded(request, options.maxBytes ?? MAX_MULTIPART_BYTES);
		if (!body) {
			return { ...failure(413, 'request_too_large', m.appeal_documents_hint(), { field: fileField }), values: {} };
		}
		form = await new Response(body, { headers: { 'content-type': type } }).formData();
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
