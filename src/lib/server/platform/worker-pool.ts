import { Piscina } from 'piscina';

/**
 * Worker threads (piscina) for CPU-heavy work, with a bound on the tasks in flight: a call that
 * would go past it is answered `busy` at once instead of queueing, because waiting tasks hold
 * their inputs in memory. Each call's tasks share one time limit, counted from submission; a task
 * still running then is refused and its thread terminated, which stops the work, not just the
 * wait. Threads start on the first call and stop on `close()`.
 */
export type Busy = { ok: false; reason: 'busy' };
type Outcome = { ok: true; value: unknown } | { ok: false; problem: 'timeout' | 'too_complex' };
interface Task {
	handler: string;
	task: unknown;
	transferList?: ArrayBuffer[];
}

export interface WorkerPool {
	/** All of `tasks` or none: `busy` when they would not fit, else each one's outcome, in order. */
	run(tasks: Task[], timeoutMs: number): Promise<{ ok: true; outcomes: Outcome[] } | Busy>;
	close(): Promise<void>;
}

export interface WorkerPoolOptions {
	/** Loads the worker module (once); it must export `workerUrl` and a function per handler. */
	load: () => Promise<Record<string, unknown> & { workerUrl: string }>;
	handlers: string[];
	threads: number;
	/** Tasks that may wait beyond the running ones. */
	queue: number;
	resourceLimits: {
		maxOldGenerationSizeMb: number;
		maxYoungGenerationSizeMb: number;
		stackSizeMb: number;
	};
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
	let pool: Promise<Piscina> | undefined;
	// Counted here rather than with piscina's `maxQueue`, which ignores tasks with an AbortSignal.
	let inFlight = 0;

	const start = () =>
		(pool ??= options.load().then((worker) => {
			// Looked up by name, as the threads do: this also keeps the bundler from dropping exports
			// that nothing on this side calls.
			for (const handler of options.handlers) {
				if (typeof worker[handler] !== 'function')
					throw new Error(`worker has no ${handler} handler`);
			}
			const { workerUrl } = worker;
			return new Piscina({
				filename: workerUrl,
				// The default handler; every task names its own.
				name: options.handlers[0],
				minThreads: 1,
				maxThreads: options.threads,
				idleTimeout: 60_000,
				// The sources (vitest, dev server) are TypeScript: their worker threads load them with tsx.
				...(workerUrl.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
				resourceLimits: options.resourceLimits,
				niceIncrement: 5
			});
		}));

	return {
		async run(tasks, timeoutMs) {
			if (inFlight + tasks.length > options.threads + options.queue)
				return { ok: false, reason: 'busy' };
			inFlight += tasks.length;
			try {
				const workers = await start();
				const signal = AbortSignal.timeout(timeoutMs);
				const settled = await Promise.allSettled(
					tasks.map(({ handler, task, transferList }) =>
						workers.run(task, { name: handler, signal, ...(transferList ? { transferList } : {}) })
					)
				);
				const outcomes: Outcome[] = [];
				for (const result of settled) {
					if (result.status === 'fulfilled') {
						outcomes.push({ ok: true, value: result.value });
						continue;
					}
					const error = result.reason as NodeJS.ErrnoException | undefined;
					if (error?.name === 'AbortError' && signal.aborted)
						outcomes.push({ ok: false, problem: 'timeout' });
					// Aborted without the time limit: the pool is closing (shutdown), nothing more runs here.
					else if (error?.name === 'AbortError') return { ok: false, reason: 'busy' };
					// The heap limit: whatever the input made the thread build, it is not something we keep.
					else if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY')
						outcomes.push({ ok: false, problem: 'too_complex' });
					else throw error;
				}
				return { ok: true, outcomes };
			} finally {
				inFlight -= tasks.length;
			}
		},
		// Stops the threads once the tasks in flight are answered; the next call starts new ones.
		async close() {
			const closing = pool;
			pool = undefined;
			if (closing) await (await closing).close();
		}
	};
}
