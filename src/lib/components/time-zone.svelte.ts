import { page } from '$app/state';
import { TIME_ZONE_COOKIE, validTimeZone } from '$lib/format/time-zones';

/**
 * The zone the browser reports, once it differs from the one the server rendered with (first
 * visit, a guess from the network's country, or a trip). Only ever written in the browser
 * (`adoptBrowserTimeZone` runs from onMount), so the server's shared module state stays null.
 */
const browser = $state<{ zone: string | null }>({ zone: null });

/** The zone every time on the page is shown in: the server's choice (layout data) until the browser says otherwise. */
export function currentTimeZone(): string {
	return browser.zone ?? (page.data.timeZone as string | undefined) ?? 'UTC';
}

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/**
 * Tells the server the browser's zone for the next pages (a `tz` cookie, one year, readable by
 * script since script writes it) and re-renders the times only when the server guessed another.
 * When the cookie already carried this zone nothing changes: no jump after hydration.
 */
export function adoptBrowserTimeZone(): void {
	const zone = validTimeZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
	if (!zone) return;
	const cookie = document.cookie
		.split('; ')
		.find((part) => part.startsWith(`${TIME_ZONE_COOKIE}=`))
		?.slice(TIME_ZONE_COOKIE.length + 1);
	if (cookie !== encodeURIComponent(zone)) {
		const secure = location.protocol === 'https:' ? '; Secure' : '';
		document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; Path=/; Max-Age=${YEAR_SECONDS}; SameSite=Lax${secure}`;
	}
	if (zone !== page.data.timeZone) browser.zone = zone;
}
