import type { RequestEvent } from '@sveltejs/kit';

/**
 * Whether the request came over HTTPS: cookies are then Secure (and `__Host-`/`__Secure-` named),
 * and HSTS is sent. Plain http only in development and tests.
 */
export function isSecure(event: Pick<RequestEvent, 'url'>): boolean {
	return event.url.protocol === 'https:';
}
