import { untrack } from 'svelte';

/**
 * Time counted from the server's clock: the page carries the server's "now" (`serverNow`), and the
 * browser adds only the time it has itself counted since, so a wrong clock on this device cannot
 * change a countdown. Each new server time (a fresh answer) starts the count again.
 */
export interface ServerClock {
	/** Milliseconds from the server's now to `iso` (negative once it has passed). */
	until(iso: string): number;
	/** Milliseconds this page has counted since the server's time arrived. */
	readonly elapsed: number;
	/** True once the browser counts (hydrated); before that, and without JavaScript, nothing ticks. */
	readonly live: boolean;
}

/**
 * Call it while a component starts. `serverNow` is read as the anchor: when what it returns
 * changes, the count starts again from zero. Ticks every `everyMs`, only in the browser.
 */
export function serverClock(serverNow: () => string | undefined, everyMs = 1000): ServerClock {
	let live = $state(false);
	let anchor = $state(0);
	let tick = $state(0);
	$effect.pre(() => {
		void serverNow();
		const start = untrack(() => performance.now());
		anchor = start;
		tick = start;
	});
	$effect(() => {
		live = true;
		const timer = setInterval(() => (tick = performance.now()), everyMs);
		return () => clearInterval(timer);
	});
	const elapsed = $derived(Math.max(0, tick - anchor));
	return {
		until(iso) {
			const now = serverNow();
			return Date.parse(iso) - (now === undefined ? Date.now() : Date.parse(now)) - elapsed;
		},
		get elapsed() {
			return elapsed;
		},
		get live() {
			return live;
		}
	};
}
