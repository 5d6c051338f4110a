import type { Handle } from '@sveltejs/kit';
import { isSecure } from './secure';

/**
 * Headers for every response (the Content-Security-Policy itself comes from `kit.csp` with
 * nonces). HSTS only over https, where it means something.
 */
export const handleSecurityHeaders: Handle = async ({ event, resolve }) => {
	let response = await resolve(event);
	try {
		response.headers.set('x-content-type-options', 'nosniff');
	} catch {
		// Immutable headers (a fetched Response passed through): copy it once.
		response = new Response(response.body, response);
	}
	const set = (name: string, value: string) => {
		if (!response.headers.has(name)) response.headers.set(name, value);
	};
	set('x-content-type-options', 'nosniff');
	// Not 'no-referrer': with it, browsers send `Origin: null` on form posts and CSRF protection refuses them.
	set('referrer-policy', 'same-origin');
	set('x-frame-options', 'DENY');
	set('cross-origin-opener-policy', 'same-origin');
	set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
	if (isSecure(event)) set('strict-transport-security', 'max-age=63072000; includeSubDomains');
	// Every dynamic response: they set device and session cookies and may carry personal data.
	set('cache-control', 'no-store');
	return response;
};
