import { inspectDocument, type InspectResult, type UploadedFile } from './documents';

/**
 * R19: the thread side of the document pool (document-pool.ts): the two steps of an upload that
 * cost CPU in proportion to its size. It imports only the pure checks of documents.ts, so a
 * worker thread loads no messages, database or configuration.
 *
 * The pool imports this module only dynamically: the bundler then gives it a chunk of its own
 * whose `import.meta.url` is a file the worker threads can load, in `vite build` output as in
 * the TypeScript sources that vitest and the dev server run.
 */
export const workerUrl = import.meta.url;

export type FormEntry = { name: string; value: string } | { name: string; file: { name: string; type: string; bytes: Uint8Array } };

export type ParsedForm = { ok: true; entries: FormEntry[] } | { ok: false };

export function inspect(file: UploadedFile): InspectResult {
	return inspectDocument(file);
}

/**
 * A multipart body read by the platform's own parser (what `Response.formData()` does), here
 * rather than on the event loop: 15 MB took it 50–400 ms, depending on the boundary and bytes a
 * client chooses, before any code was checked.
 */
export async function parseForm(task: { body: Uint8Array<ArrayBuffer>; contentType: string; maxEntries: number }): Promise<ParsedForm> {
	let form: FormData;
	try {
		form = await new Response(task.body, { headers: { 'content-type': task.contentType } }).formData();
	} catch {
		return { ok: false };
	}
	const entries: FormEntry[] = [];
	for (const [name, value] of form) {
		// Each entry is copied back to the event loop: thousands of tiny fields are no appeal.
		if (entries.length === task.maxEntries) return { ok: false };
		entries.push(typeof value === 'string' ? { name, value } : { name, file: { name: value.name, type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) } });
	}
	return { ok: true, entries };
}
