import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serverClock, type ServerClock } from '../../src/lib/components/server-clock.svelte';

const SERVER_NOW = '2026-11-26T12:00:00.000Z';
const inMinutes = (minutes: number) =>
	new Date(Date.parse(SERVER_NOW) + minutes * 60_000).toISOString();

let stop: (() => void) | undefined;
afterEach(() => {
	stop?.();
	vi.useRealTimers();
});

/** The rune as a component would hold it, with the server's time as reactive page data. */
function start(everyMs?: number) {
	const page = $state({ serverNow: SERVER_NOW });
	let clock: ServerClock | undefined;
	stop = $effect.root(() => {
		clock = serverClock(() => page.serverNow, everyMs);
	});
	flushSync();
	return { clock: clock!, page };
}

describe("serverClock: countdowns from the server's clock", () => {
	// This device's clock is a day fast: a countdown must not care.
	beforeEach(() =>
		vi.useFakeTimers({
			now: Date.parse(SERVER_NOW) + 24 * 60 * 60_000,
			toFake: ['setInterval', 'clearInterval', 'Date', 'performance']
		})
	);

	it("counts from the server's now, not this device's clock, and ticks every second", () => {
		const { clock } = start();
		expect(clock.live).toBe(true);
		expect(clock.until(inMinutes(5))).toBe(5 * 60_000);
		vi.advanceTimersByTime(999);
		expect(clock.until(inMinutes(5))).toBe(5 * 60_000);
		vi.advanceTimersByTime(1);
		flushSync();
		expect(clock.elapsed).toBe(1000);
		expect(clock.until(inMinutes(5))).toBe(5 * 60_000 - 1000);
		vi.advanceTimersByTime(6 * 60_000 - 1000);
		flushSync();
		expect(clock.until(inMinutes(5))).toBe(-60_000);
	});

	it('ticks as often as asked (a due date in minutes: every 15 s)', () => {
		const { clock } = start(15_000);
		vi.advanceTimersByTime(14_000);
		flushSync();
		expect(clock.elapsed).toBe(0);
		vi.advanceTimersByTime(1_000);
		flushSync();
		expect(clock.elapsed).toBe(15_000);
	});

	it('a fresh server time (a new answer) starts the count again from it', () => {
		const { clock, page } = start();
		vi.advanceTimersByTime(30_000);
		flushSync();
		expect(clock.until(inMinutes(5))).toBe(4.5 * 60_000);
		page.serverNow = inMinutes(1);
		flushSync();
		expect(clock.elapsed).toBe(0);
		expect(clock.until(inMinutes(5))).toBe(4 * 60_000);
	});

	it('stops ticking when its component goes away', () => {
		const { clock } = start();
		stop?.();
		stop = undefined;
		vi.advanceTimersByTime(5_000);
		flushSync();
		expect(clock.elapsed).toBe(0);
		expect(vi.getTimerCount()).toBe(0);
	});
});
