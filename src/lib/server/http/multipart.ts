import { m } from '$lib/paraglide/messages';
import type { z } from 'zod';
import {
	uploadedFiles,
	uploadsBusy,
	parseMultipartBody,
	type FormEntry,
	MAX_DOCUMENT_BYTES,
	MAX_DOCUMENTS_PER_UPLOAD,
	type UploadedFile
} from '../appeals';
import type { Ctx } from '../core/context';
import { failure, type Failure } from '../core/failures';
import { fieldErrors, issueField } from './api-error';

/**
 * The whole body, read before any parsing: three documents at the limit plus the text fields
 * and part headers. Checked here as well as by adapter-node's BODY_SIZE_LIMIT, so a deployment
 * that raises that limit (appeals need it raised) still never buffers more than this.
 */
export const MAX_MULTIPART_BYTES = MAX_DOCUMENTS_PER_UPLOAD * MAX_DOCUMENT_BYTES + 256 * 1024;
/**
 * R19: what the bodies being read and parsed may hold in this process at once (about 122 MB).
 * Each reserves its Content-Length (the whole limit when it sends none) before a byte is read;
 * past this the answer is `busy` and the body is never read, so 100 parallel uploads cannot make
 * the process buffer 1.5 GB. Parsed files then go to the document pool, which has its own bound.
 */
export const MAX_BUFFERED_UPLOAD_BYTES = 8 * MAX_MULTIPART_BYTES;
/**
 * One client network's share of that budget: two uploads at the limit. Without it, eight stalled
 * bodies from one address would hold the whole budget and every other upload would be `busy`.
 */
export const MAX_BUFFERED_PER_NETWORK = 2 * MAX_MULTIPART_BYTES;
/** A body that sends nothing for this long is cut off: a stalled upload holds its share no longer. */
export const UPLOAD_IDLE_MS = 15_000;
/** Fields and files of one form: an appeal has a handful; more is refused, not parsed back. */
const MAX_FORM_ENTRIES = 64;

/**
 * The body's bytes in one buffer of their own (handed to the parsing thread without a copy), or
 * null as soon as it passes `max` while streaming.
 */
async function readBounded(
	request: Request,
	max: number,
	expected: number | null
): Promise<Uint8Array<ArrayBuffer> | null> {
	if (!request.body) return new Uint8Array(0);
	const reader = request.body.getReader();
	let out = new Uint8Array(expected ?? Math.min(max, 256 * 1024));
	let total = 0;
	for (;;) {
		let idle: ReturnType<typeof setTimeout> | undefined;
		const stalled = new Promise<'stalled'>(
			(resolve) => (idle = setTimeout(() => resolve('stalled'), UPLOAD_IDLE_MS))
		);
		const next = await Promise.race([reader.read(), stalled]).finally(() => clearTimeout(idle));
		if (next === 'stalled') {
			await reader.cancel().catch(() => {});
			return null;
		}
		const { done, value } = next;
		if (done) break;
		if (total + value.byteLength > max) {
			await reader.cancel().catch(() => {});
			return null;
		}
		if (total + value.byteLength > out.length) {
			const grown = new Uint8Array(
				Math.min(max, Math.max(out.length * 2, total + value.byteLength))
			);
			grown.set(out.subarray(0, total));
			out = grown;
		}
		out.set(value, total);
		total += value.byteLength;
	}
	return total === out.length ? out : out.slice(0, total);
}

/**
 * Reads a multipart form with text fields checked by a zod schema (unknown fields refused, docs/api.md
 * ) and the named file field read into memory. Form actions and /api/v1 share it. R19: the
 * body is parsed off the event loop (appeals/documents/pool.ts), after its bytes are reserved here.
 */
export async function readMultipart<T>(
	ctx: Ctx,
	request: Request,
	schema: z.ZodType<T>,
	fileField: string,
	/** `network`: the client's network key (platform/address-key.ts), for its share of the read budget. */
	options: { requireMultipart?: boolean; maxBytes?: number; network?: string } = {}
): Promise<
	| { ok: true; data: T; files: UploadedFile[]; values: Record<string, string> }
	| (Failure & { values: Record<string, string> })
> {
	const type = request.headers.get('content-type') ?? '';
	if (options.requireMultipart && !/^multipart\/form-data\s*;/i.test(type)) {
		return {
			...failure(415, 'unsupported_media_type', m.error_unsupported_media_type()),
			values: {}
		};
	}
	const max = options.maxBytes ?? MAX_MULTIPART_BYTES;
	const declared = Number(request.headers.get('content-length') ?? Number.NaN);
	if (declared > max) {
		await request.body?.cancel().catch(() => {});
		return {
			...failure(413, 'request_too_large', m.appeal_documents_hint(), { field: fileField }),
			values: {}
		};
	}
	const expected = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
	const reserved = expected ?? max;
	const network = options.network ?? 'unknown';
	const release = ctx.uploads.reserve(network, reserved);
	if (!release) {
		await request.body?.cancel().catch(() => {});
		return { ...uploadsBusy(fileField), values: {} };
	}
	let entries: FormEntry[];
	try {
		const body = await readBounded(request, reserved, expected);
		if (!body) {
			return {
				...failure(413, 'request_too_large', m.appeal_documents_hint(), { field: fileField }),
				values: {}
			};
		}
		const parsed = await parseMultipartBody(ctx, body, type, { maxEntries: MAX_FORM_ENTRIES });
		if (!parsed.ok) {
			return parsed.reason === 'busy'
				? { ...uploadsBusy(fileField), values: {} }
				: { ...failure(400, 'invalid_request', m.error_invalid_request()), values: {} };
		}
		entries = parsed.entries;
	} catch {
		return { ...failure(400, 'invalid_request', m.error_invalid_request()), values: {} };
	} finally {
		release();
	}
	const byName = new Map<string, FormEntry[]>();
	for (const entry of entries) {
		if (entry.name === fileField) continue;
		byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
	}
	const values: Record<string, string> = {};
	for (const [key, all] of byName) {
		const only = all[0];
		if (all.length !== 1 || !only || 'file' in only) {
			return {
				...failure(400, 'invalid_request', m.error_invalid_request(), { field: key }),
				values
			};
		}
		if (only.value !== '') values[key] = only.value;
	}
	const parsed = schema.safeParse(values);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		const field = issue ? issueField(issue) : '';
		const message =
			issue?.code === 'unrecognized_keys' ? m.error_unknown_field() : m.error_invalid_request();
		const fields = fieldErrors(parsed.error);
		return {
			...failure(400, 'invalid_request', message, field ? { field, extra: { fields } } : {}),
			values
		};
	}
	const files = uploadedFiles(entries, fileField);
	if (!Array.isArray(files)) return { ...files, values };
	return { ok: true, data: parsed.data, files, values };
}
