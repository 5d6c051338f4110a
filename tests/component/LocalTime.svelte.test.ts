import { flushSync } from 'svelte';
import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import LocalTime from '../../src/lib/components/LocalTime.svelte';
import { adoptBrowserTimeZone } from '../../src/lib/components/time-zone.svelte';

// The zone the server chose for this request (layout data), as on a real page.
vi.mock('$app/state', () => ({ page: { data: { timeZone: 'Asia/Shanghai' } } }));

const ISO = '2026-01-01T00:00:00.000Z';
const browserZone = (timeZone: string) =>
	vi
		.spyOn(Intl.DateTimeFormat.prototype, 'resolvedOptions')
		.mockReturnValue({ timeZone } as Intl.ResolvedDateTimeFormatOptions);
const clearCookie = () => (document.cookie = 'tz=; Path=/; Max-Age=0');

afterEach(() => {
	vi.restoreAllMocks();
	clearCookie();
});

// Issue 26: the order matters — the browser's zone, once adopted, stays for the page's life.
describe('LocalTime and the browser zone (R14)', () => {
	it("renders in the server's zone, named, before and after mounting", () => {
		render(LocalTime, { iso: ISO });
		expect(screen.getByText(/Jan 1, 2026/)).toHaveTextContent(/08:00 AM GMT\+8/);
		expect(screen.getByText(/Jan 1, 2026/)).toHaveAttribute('datetime', ISO);
	});

	it('when the cookie already says the browser zone, nothing is written and nothing changes', () => {
		document.cookie = 'tz=Asia%2FShanghai; Path=/';
		browserZone('Asia/Shanghai');
		const write = vi.spyOn(Document.prototype, 'cookie', 'set');
		render(LocalTime, { iso: ISO });
		adoptBrowserTimeZone();
		flushSync();
		expect(write).not.toHaveBeenCalled();
		expect(screen.getByText(/Jan 1, 2026/)).toHaveTextContent(/08:00 AM GMT\+8/);
	});

	it('a browser in another zone: the cookie is written for the next pages and the times follow', () => {
		browserZone('America/New_York');
		render(LocalTime, { iso: ISO });
		adoptBrowserTimeZone();
		flushSync();
		expect(document.cookie).toContain('tz=America%2FNew_York');
		expect(screen.getByText(/Dec 31, 2025/)).toHaveTextContent(/07:00 PM EST/);
	});
});
