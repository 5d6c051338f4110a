import type { Handle } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { extractLocaleFromRequest } from '$lib/paraglide/runtime';
import { apiError } from './api-error';
import { isApiPath } from './body-limit';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Defence in depth for the JSON API (SvelteKit checks Origin only for form content types): a
 * browser that sends a state-changing /api request from another site says so in `Origin` or
 * `Sec-Fetch-Site`, and is refused before any route runs. Native apps, the order system's
 * internal calls and curl send neither, and pass. `url.origin` comes from adapter-node's ORIGIN.
 */
export const handleOriginCheck: Handle = ({ event, resolve }) => {
	const { request, url } = event;
	if (READS.has(request.method) || !isApiPath(url.pathname)) return resolve(event);
	const origin = request.headers.get('origin');
	const foreign =
		(origin !== null && origin !== url.origin) ||
		request.headers.get('sec-fetch-site') === 'cross-site';
	if (!foreign) return resolve(event);
	return apiError(
		403,
		'forbidden_origin',
		m.error_forbidden_origin({}, { locale: extractLocaleFromRequest(request) })
	);
};
