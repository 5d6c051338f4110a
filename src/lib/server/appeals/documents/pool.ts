import { Piscina } from 'piscina';
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
 * The pool is created on first use, once per process, and closed on adapter-node's shutdown.
 */
export const DOCUMENT_INSPECTION_TIMEOUT_MS = 5_000;
export const DOCUMENT_POOL_THREADS = 2;
/** Four full uploads (3 documents each) waiting: 60 MB of documents at most. */
export const DOCUMENT_POOL_QUEUE = 12;

export type PooledInspection = InspectResult | { ok: false; problem: 'timeout' };

export type Busy = { ok: false; reason: 'busy' };

export type { FormEntry };

let pool: Promise<Piscina> | undefined;
// Tasks submitted and not yet answered. Counted here rather than with piscina's `maxQueue`,
// which does not apply to tasks that carry an AbortSignal.
let inFlight = 0;

type Handler = 'inspect' | 'parseForm';
const HANDLERS: Handler[] = ['inspect', 'parseForm'];

function documentPool(): Promise<Piscina> {
	pool ??= import('./worker').then((worker) => {
		// Looked up by name, as the threads do: this also keeps the bundler from dropping exports
		// that nothing on this side calls.
		for (const handler of HANDLERS) {
			if (typeof worker[handler] !== 'function') throw new Error(`document worker has no ${handler} handler`);
		}
		const { workerUrl } = worker;
		const created = new Piscina({
			filename: workerUrl,
			name: 'inspect',
			minThreads: 1,
			maxThreads: DOCUMENT_POOL_THREADS,
			idleTimeout: 60_000,
			// The sources (vitest, dev server) are TypeScript: their worker threads load them with tsx.
			...(workerUrl.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
			// The JS heap holds a 5 MB upload and its rebuilt pages (≤ 20 PNGs of ≤ 2000 px). MuPDF's
			// WASM heap has its own limit (worker.ts); libvips is bounded by its pixel limit.
			resourceLimits: { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
			niceIncrement: 5
		});
		process.once('sveltekit:shutdown', () => void closeDocumentPool());
		return created;
	});
	return pool;
}

type Task = { handler: Handler; task: unknown; transferList?: ArrayBuffer[] };
type Outcome = { ok: true; value: unknown } | { ok: false; problem: 'timeout' | 'too_complex' };

/** All of `tasks` or none: `busy` when they would not fit, else each one's outcome, in order. */
async function runTasks(tasks: Task[], timeoutMs: number): Promise<{ ok: true; outcomes: Outcome[] } | Busy> {
	if (inFlight + tasks.length > DOCUMENT_POOL_THREADS + DOCUMENT_POOL_QUEUE) return { ok: false, reason: 'busy' };
	inFlight += tasks.length;
	try {
		const workers = await documentPool();
		const signal = AbortSignal.timeout(timeoutMs);
		const settled = await Promise.allSettled(
			tasks.map(({ handler, task, transferList }) => workers.run(task, { name: handler, signal, ...(transferList ? { transferList } : {}) }))
		);
		const outcomes: Outcome[] = [];
		for (const result of settled) {
			if (result.status === 'fulfilled') {
				outcomes.push({ ok: true, value: result.value });
				continue;
			}
			const error = result.reason as NodeJS.ErrnoException | undefined;
			if (error?.name === 'AbortError' && signal.aborted) outcomes.push({ ok: false, problem: 'timeout' });
			// Aborted without the time limit: the pool is closing (shutdown), nothing more runs here.
			else if (error?.name === 'AbortError') return { ok: false, reason: 'busy' };
			// The heap limit: whatever the file made the decoders build, it is not a document we keep.
			else if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') outcomes.push({ ok: false, problem: 'too_complex' });
			else throw error;
		}
		return { ok: true, outcomes };
	} finally {
		inFlight -= tasks.length;
	}
}

/**
 * R19: each file checked and rebuilt (inspect.ts), in order. `timeoutMs` replaces the time
 * limit (tests use a tiny one rather than a slow file).
 */
export async function inspectDocuments(
	files: UploadedFile[],
	options: { timeoutMs?: number } = {}
): Promise<{ ok: true; results: PooledInspection[] } | Busy> {
	const run = await runTasks(
		files.map((file) => ({ handler: 'inspect', task: file })),
		options.timeoutMs ?? DOCUMENT_INSPECTION_TIMEOUT_MS
	);
	if (!run.ok) return run;
	return { ok: true, results: run.outcomes.map((o) => (o.ok ? (o.value as InspectResult) : { ok: false, problem: o.problem })) };
}

/**
 * R19: a multipart body's fields and files, parsed off the event loop. `body` is handed over to
 * the thread (its buffer is detached here), so it must own its whole ArrayBuffer.
 */
export async function parseMultipartBody(
	body: Uint8Array<ArrayBuffer>,
	contentType: string,
	options: { maxEntries: number; timeoutMs?: number }
): Promise<{ ok: true; entries: FormEntry[] } | { ok: false; reason: 'busy' | 'invalid' }> {
	const transferList = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? [body.buffer] : undefined;
	const task = { body, contentType, maxEntries: options.maxEntries };
	const run = await runTasks([{ handler: 'parseForm', task, ...(transferList ? { transferList } : {}) }], options.timeoutMs ?? DOCUMENT_INSPECTION_TIMEOUT_MS);
	if (!run.ok) return run;
	const [outcome] = run.outcomes;
	const parsed = outcome?.ok ? (outcome.value as ParsedForm) : { ok: false as const };
	return parsed.ok ? parsed : { ok: false, reason: 'invalid' };
}

/** Stops the threads once the tasks in flight are answered; the next upload starts a new pool. */
export async function closeDocumentPool(): Promise<void> {
	const closing = pool;
	pool = undefined;
	if (closing) await (await closing).close();
}
