import type { RequestEvent } from '@sveltejs/kit';
import type { AppContext } from '../../src/lib/server/app';

/**
 * Calls a `+server.ts` handler the way SvelteKit would after hooks.server.ts ran: with
 * `locals` filled in from a test AppContext.
 */
export async function callEndpoint<E extends RequestEvent>(
	handler: (event: E) => Response | Promise<Response>,
	app: AppContext,
	init: {
		method?: string;
		path?: string;
		json?: unknown;
		body?: BodyInit;
		headers?: Record<string, string>;
		clientAddress?: string;
	} = {}
): Promise<Response> {
	const url = new URL(init.path ?? '/', 'http://127.0.0.1');
	const headers = new Headers(init.headers);
	let body = init.body;
	if (init.json !== undefined) {
		body = JSON.stringify(init.json);
		if (!headers.has('content-type')) headers.set('content-type', 'application/json');
	}
	const request = new Request(url, { method: init.method ?? 'POST', headers, body });
	const clientAddress = init.clientAddress ?? '127.0.0.1';
	const event = {
		request,
		url,
		params: {},
		locals: { app, clientAddress, ipCountry: app.geoip.country(clientAddress) },
		getClientAddress: () => clientAddress,
		cookies: { get: () => undefined, getAll: () => [], set: () => {}, delete: () => {}, serialize: () => '' },
		setHeaders: () => {},
		fetch
	} as unknown as E;
	return handler(event);
}
