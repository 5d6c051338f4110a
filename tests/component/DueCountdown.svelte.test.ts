import { act, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import DueCountdown from '../../src/lib/components/DueCountdown.svelte';

const SERVER_NOW = '2026-11-26T12:00:00.000Z';
const hoursLater = (hours: number) =>
	new Date(Date.parse(SERVER_NOW) + hours * 60 * 60_000).toISOString();
const countdown = () => screen.getByText(/^(due in|overdue by)/);

// This device's clock is two hours slow: the countdown must follow the server's.
beforeEach(() =>
	vi.useFakeTimers({
		now: Date.parse(SERVER_NOW) - 2 * 60 * 60_000,
		toFake: ['setInterval', 'clearInterval', 'Date', 'performance']
	})
);
afterEach(() => vi.useRealTimers());

describe("DueCountdown (R20: 48 hours to answer, from the server's clock)", () => {
	it('counts down in minutes from the server time it was rendered with', async () => {
		render(DueCountdown, { dueAt: hoursLater(48), serverNow: SERVER_NOW });
		expect(countdown()).toHaveTextContent('due in 48h 0m');
		await act(() => vi.advanceTimersByTime(60_000));
		expect(countdown()).toHaveTextContent('due in 47h 59m');
	});

	it('past the deadline it says by how much', async () => {
		render(DueCountdown, { dueAt: hoursLater(-1.5), serverNow: SERVER_NOW });
		expect(countdown()).toHaveTextContent('overdue by 1h 30m');
	});

	it('only the first on a page speaks, and politely', () => {
		render(DueCountdown, { dueAt: hoursLater(2), serverNow: SERVER_NOW, live: true });
		expect(countdown()).toHaveAttribute('aria-live', 'polite');
	});
});
