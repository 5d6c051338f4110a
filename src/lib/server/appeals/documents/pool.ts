import type { Ctx } from '../../core/context';
import { createWorkerPool, type Busy, type WorkerPool } from '../../platform/worker-pool';
import type { InspectResult, UploadedFile } from './inspect';
import type { FormEntry, ParsedForm } from './worker';

/**
 * R19: an upload's CPU-heavy steps (parsing the multipart body, decoding and rebuilding each
 * document with libvips and MuPDF) run in worker threads, never on the event loop, so no upload
 * holds up other requests or `/healthz`.
 *
 * - Each call gets DOCUMENT_INSPECTION_TIMEOUT_MS in all, counted from submission (queue wait
 *   included, so every upload is answered within about that long). A task still running then is
 *   refused and its thread terminated, which stops the work (MuPDF's WASM with it), not just the
 *   wait; a libvips operation already handed to libuv's pool finishes alone, bounded by the
 *   pixel limit, and its result is dropped.
 * - Two threads (the machines this runs on have two cores; the event loop keeps its share), at a
 *   lower priority, each with a V8 heap limit and a MuPDF heap limit (worker.ts).
 * - At most DOCUMENT_POOL_QUEUE tasks wait beyond the running ones. A call that would go past
 *   that is answered `busy` at once instead of queueing: waiting uploads hold their bytes in
 *   memory, so a burst of them must not pile up.
 *
 * One pool per context (src/lib/server/app.ts), its threads started on first use.
 */
const DOCUMENT_INSPECTION_TIMEOUT_MS = 5_000;
const DOCUMENT_POOL_THREADS = 2;
/** Four full uploads (3 documents each) waiting: 60 MB of documents at most. */
const DOCUMENT_POOL_QUEUE = 12;

export type PooledInspection = InspectResult | { ok: false; problem: 'timeout' };

export type { Busy, FormEntry };

/** The threads that parse upload bodies and rebuild documents (worker.ts). */
export function createDocumentPool(): WorkerPool {
	return createWorkerPool({
		load: () => import('./worker'),
		handlers: ['inspect', 'parseForm'],
		threads: DOCUMENT_POOL_THREADS,
		queue: DOCUMENT_POOL_QUEUE,
		// The JS heap holds a 5 MB upload and its rebuilt pages (≤ 20 PNGs of ≤ 2000 px). MuPDF's
		// WASM heap has its own limit (worker.ts); libvips is bounded by its pixel limit.
		resourceLimits: { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 }
	});
}

/**
 * R19: each file checked and rebuilt (inspect.ts), in order. `timeoutMs` replaces the time
 * limit (tests use a tiny one rather than a slow file).
 */
export async function inspectDocuments(
	ctx: Ctx,
	files: UploadedFile[],
	options: { timeoutMs?: number } = {}
): Promise<{ ok: true; results: PooledInspection[] } | Busy> {
	const run = await ctx.workers.run(
		files.map((file) => ({ handler: 'inspect', task: file })),
		options.timeoutMs ?? DOCUMENT_INSPECTION_TIMEOUT_MS
	);
	if (!run.ok) return run;
	return {
		ok: true,
		results: run.outcomes.map((o) =>
			o.ok ? (o.value as InspectResult) : { ok: false, problem: o.problem }
		)
	};
}

/**
 * R19: a multipart body's fields and files, parsed off the event loop. `body` is handed over to
 * the thread (its buffer is detached here), so it must own its whole ArrayBuffer.
 */
export async function parseMultipartBody(
	ctx: Ctx,
	body: Uint8Array<ArrayBuffer>,
	contentType: string,
	options: { maxEntries: number; timeoutMs?: number }
): Promise<{ ok: true; entries: FormEntry[] } | { ok: false; reason: 'busy' | 'invalid' }> {
	const transferList =
		body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? [body.buffer] : undefined;
	const task = { body, contentType, maxEntries: options.maxEntries };
	const run = await ctx.workers.run(
		[{ handler: 'parseForm', task, ...(transferList ? { transferList } : {}) }],
		options.timeoutMs ?? DOCUMENT_INSPECTION_TIMEOUT_MS
	);
	if (!run.ok) return run;
	const [outcome] = run.outcomes;
	const parsed = outcome?.ok ? (outcome.value as ParsedForm) : { ok: false as const };
	return parsed.ok ? parsed : { ok: false, reason: 'invalid' };
}
