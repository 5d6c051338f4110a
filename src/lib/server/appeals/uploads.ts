import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { inspectDocuments, type FormEntry } from './documents/pool';
import {
	MAX_DOCUMENT_BYTES,
	MAX_DOCUMENTS_PER_UPLOAD,
	MAX_PAGES_PER_UPLOAD,
	MAX_PDF_PAGES,
	type CleanDocument,
	type DocumentProblem,
	type UploadedFile
} from './documents/inspect';
import { storeDocument } from './documents/store';
import { failure, type Failure } from '../core/failures';

/** R19: the documents of an upload: counted, checked and rebuilt off the event loop, stored. */

/** R19: the answer when the document pool or the upload buffer has its fill: try again shortly. */
export const uploadsBusy = (field = 'documents'): Failure =>
	failure(503, 'busy', m.error_documents_busy(), { field, retryAfterSeconds: 10 });
// Crockford base32 without I, L, O, U: read aloud and typed back without confusion.

const documentFailure = (
	problem: DocumentProblem | 'timeout',
	name: string,
	detected?: string
): Failure => {
	const field = 'documents';
	const file = name.slice(0, 80) || '—';
	switch (problem) {
		case 'too_large':
			return failure(
				413,
				'document_too_large',
				m.error_document_too_large({ name: file, max: MAX_DOCUMENT_BYTES / 1024 / 1024 }),
				{ field }
			);
		case 'type_mismatch':
			return failure(
				400,
				'invalid_document',
				m.error_document_type_mismatch({ name: file, detected: detected ?? '' }),
				{ field }
			);
		case 'malformed':
			return failure(400, 'invalid_document', m.error_document_malformed({ name: file }), {
				field
			});
		case 'encrypted':
			return failure(400, 'invalid_document', m.error_document_encrypted({ name: file }), {
				field
			});
		case 'too_many_pages':
			return failure(
				400,
				'invalid_document',
				m.error_document_too_many_pages({ name: file, max: MAX_PDF_PAGES }),
				{ field }
			);
		case 'empty':
			return failure(400, 'invalid_document', m.error_document_empty({ name: file }), { field });
		case 'unknown_type':
			return failure(400, 'invalid_document', m.error_document_unknown_type({ name: file }), {
				field
			});
		// Past the time limit, or past a decoder's memory or pixel limit: too heavy to read either way.
		case 'timeout':
		case 'too_complex':
			return failure(400, 'invalid_document', m.error_document_timeout({ name: file }), { field });
	}
};

/** R19: 1–3 files: counted before anything else, so a wrong count costs no code attempt. */
export function countUploads(files: UploadedFile[]): Failure | null {
	if (files.length === 0)
		return failure(400, 'document_required', m.error_document_required(), { field: 'documents' });
	if (files.length > MAX_DOCUMENTS_PER_UPLOAD) {
		return failure(
			400,
			'too_many_documents',
			m.error_too_many_documents({ max: MAX_DOCUMENTS_PER_UPLOAD }),
			{ field: 'documents' }
		);
	}
	return null;
}

/**
 * R19: 1–3 files, each JPEG/PNG/PDF by content and at most 5 MB, each rebuilt from its pixels
 * (inspect.ts): the pages returned are what is stored, never the uploads. All are checked
 * before anything is stored. The work runs in the document pool, off the event loop and within
 * its time and memory limits (`timeoutMs` replaces the time limit, for tests); a full pool
 * answers `busy` (503).
 */
export async function inspectUploads(
	ctx: Ctx,
	files: UploadedFile[],
	options: { timeoutMs?: number } = {}
): Promise<{ ok: true; documents: CleanDocument[] } | Failure> {
	const count = countUploads(files);
	if (count) return count;
	const inspected = await inspectDocuments(ctx, files, options);
	if (!inspected.ok) return uploadsBusy();
	const documents: CleanDocument[] = [];
	for (const [upload, result] of inspected.results.entries()) {
		if (!result.ok)
			return documentFailure(
				result.problem,
				files[upload]!.name,
				'detected' in result ? result.detected : undefined
			);
		const pages = result.pages.length;
		for (const [i, page] of result.pages.entries())
			documents.push({ ...page, upload, page: i + 1, pages, original: result.original });
	}
	// R19: what an agent is asked to read for one submission or answer, all its files together.
	if (documents.length > MAX_PAGES_PER_UPLOAD) {
		return failure(
			400,
			'invalid_document',
			m.error_documents_too_many_pages({ max: MAX_PAGES_PER_UPLOAD }),
			{ field: 'documents' }
		);
	}
	return { ok: true, documents };
}

/** R19: every rebuilt page of the uploads, row and encrypted content, in the caller's transaction. */
export async function insertDocuments(
	ctx: Ctx,
	appealId: string,
	now: number,
	documents: CleanDocument[],
	source: 'submission' | 'reply'
): Promise<void> {
	for (const page of documents) await storeDocument(ctx, { appealId, now, source, page });
}

/** The `documents` files of a parsed multipart form, each checked against the size limit. */
export function uploadedFiles(entries: FormEntry[], name = 'documents'): UploadedFile[] | Failure {
	const files: UploadedFile[] = [];
	for (const entry of entries) {
		if (entry.name !== name) continue;
		if (!('file' in entry)) {
			if (entry.value === '') continue;
			return failure(400, 'invalid_document', m.error_document_unknown_type({ name: '—' }), {
				field: name
			});
		}
		const { file } = entry;
		// Browsers send an empty, nameless part for a file input left empty.
		if (file.bytes.length === 0 && file.name === '') continue;
		if (file.bytes.length > MAX_DOCUMENT_BYTES) {
			return documentFailure('too_large', file.name);
		}
		files.push({ name: file.name, declaredType: file.type, bytes: file.bytes });
	}
	return files;
}
