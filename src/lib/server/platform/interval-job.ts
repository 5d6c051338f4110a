/**
 * A background job that runs `run` every `intervalMs` (and once at start), never two runs at
 * once, without keeping the process alive on its own; `stop` waits for the run in flight. The
 * outbox worker (R7) and the webhook worker (R27) both run this way.
 */
export interface IntervalJob {
	start(intervalMs?: number): void;
	stop(): Promise<void>;
}

export function intervalJob(
	run: () => Promise<unknown>,
	onError: (error: unknown) => void
): IntervalJob {
	let timer: ReturnType<typeof setInterval> | undefined;
	let inFlight: Promise<unknown> | undefined;

	function tick(): void {
		if (inFlight) return;
		inFlight = run()
			.catch(onError)
			.finally(() => {
				inFlight = undefined;
			});
	}

	return {
		start(intervalMs = 1_000) {
			if (timer) return;
			timer = setInterval(tick, intervalMs);
			timer.unref();
			tick();
		},
		async stop() {
			if (timer) clearInterval(timer);
			timer = undefined;
			await inFlight;
		}
	};
}
