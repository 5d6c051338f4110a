import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isWorkerThread } from 'piscina';
import { once } from '../../core/once';
import {
	inspectDocument,
	type DocumentEngines,
	type InspectResult,
	type UploadedFile
} from './inspect';

/**
 * R19: the thread side of the document pool (document-pool.ts): the steps of an upload that cost
 * CPU and memory in proportion to what a client sends. It imports only documents.ts (the rules)
 * and, inside a thread only, the decoders: a worker thread loads no messages, database or
 * configuration, and the event loop never loads libvips or MuPDF.
 *
 * The pool imports this module only dynamically: the bundler then gives it a chunk of its own
 * whose `import.meta.url` is a file the worker threads can load, in `vite build` output as in
 * the TypeScript sources that vitest and the dev server run. sharp and mupdf are `dependencies`,
 * so neither Vite nor adapter-node bundles them: `node build` loads them from node_modules.
 */
export const workerUrl = import.meta.url;

/**
 * MuPDF's WASM heap in one thread. The heap grows on demand up to 2 GB and never shrinks, and
 * V8's `resourceLimits` do not count it: this limit is what keeps one PDF (nested transparency
 * groups, huge images) from taking the machine. Past it MuPDF's allocations fail (after it has
 * emptied its cache), the page is refused as too complex and the thread renders the next one.
 */
const PDF_HEAP_LIMIT_BYTES = 256 * 1024 * 1024;

export type FormEntry =
	| { name: string; value: string }
	| { name: string; file: { name: string; type: string; bytes: Uint8Array } };

export type ParsedForm = { ok: true; entries: FormEntry[] } | { ok: false };

/** The decoders of this thread, loaded once, with their limits. */
export const documentEngines: () => Promise<DocumentEngines> = once(async () => {
	const { default: sharp } = await import('sharp');
	// One libvips thread per image and no operation cache: the pool decides the parallelism,
	// and nothing of one person's document stays in memory for the next.
	sharp.concurrency(1);
	sharp.cache(false);
	await limitPdfHeap(PDF_HEAP_LIMIT_BYTES);
	const mupdf = await import('mupdf');
	// Its warnings about hostile files would otherwise go to the server's stderr.
	mupdf.setLog(null);
	return { sharp, mupdf };
});

/**
 * Emscripten lets the embedder instantiate the module (`instantiateWasm`); here that is used to
 * wrap the one import through which the heap grows (`emscripten_resize_heap`, recognised by its
 * 2 GB ceiling, as minified names change between builds) so that it refuses growth past `limit`.
 * If a mupdf release no longer has it, loading fails loudly rather than running unbounded.
 */
async function limitPdfHeap(limit: number): Promise<void> {
	const entry = createRequire(import.meta.url).resolve('mupdf');
	// Compiled here, instantiated synchronously below: a failure then rejects mupdf's import.
	const compiled = await WebAssembly.compile(
		await readFile(join(dirname(entry), 'mupdf-wasm.wasm'))
	);
	type Imports = Record<string, Record<string, unknown>>;
	(globalThis as { $libmupdf_wasm_Module?: unknown }).$libmupdf_wasm_Module = {
		instantiateWasm(
			imports: Imports,
			done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void
		) {
			const growths = Object.values(imports).flatMap((functions) =>
				Object.entries(functions)
					.filter(([, f]) => typeof f === 'function' && f.toString().includes('2147483648'))
					.map(([name]) => ({ functions, name }))
			);
			if (growths.length !== 1)
				throw new Error('mupdf: cannot find the WASM heap growth to limit (was mupdf upgraded?)');
			const { functions, name } = growths[0]!;
			const grow = functions[name] as (bytes: number) => boolean;
			functions[name] = (bytes: number) => (bytes >>> 0 > limit ? false : grow(bytes));
			done(new WebAssembly.Instance(compiled, imports as WebAssembly.Imports), compiled);
			return {};
		}
	};
}

// Threads start ahead of tasks (the pool keeps one, and replaces one ended by the time limit):
// they load the decoders (≈ 0.5 s) then, not inside a task's time limit. A failure to load is
// reported by the task that needs them.
if (isWorkerThread) documentEngines().catch(() => {});

export async function inspect(file: UploadedFile): Promise<InspectResult> {
	return inspectDocument(file, await documentEngines());
}

/**
 * A multipart body read by the platform's own parser (what `Response.formData()` does), here
 * rather than on the event loop: 15 MB took it 50–400 ms, depending on the boundary and bytes a
 * client chooses, before any code was checked.
 */
export async function parseForm(task: {
	body: Uint8Array<ArrayBuffer>;
	contentType: string;
	maxEntries: number;
}): Promise<ParsedForm> {
	let form: FormData;
	try {
		form = await new Response(task.body, {
			headers: { 'content-type': task.contentType }
		}).formData();
	} catch {
		return { ok: false };
	}
	const entries: FormEntry[] = [];
	for (const [name, value] of form) {
		// Each entry is copied back to the event loop: thousands of tiny fields are no appeal.
		if (entries.length === task.maxEntries) return { ok: false };
		entries.push(
			typeof value === 'string'
				? { name, value }
				: {
						name,
						file: {
							name: value.name,
							type: value.type,
							bytes: new Uint8Array(await value.arrayBuffer())
						}
					}
		);
	}
	return { ok: true, entries };
}
