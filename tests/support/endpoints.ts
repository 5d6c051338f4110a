import type { Cookies, RequestEvent } from '@sveltejs/kit';
import type { AppContext } from '../../src/lib/server/core/context';
import { deviceIdFromCookies } from '../../src/lib/server/accounts/devices';
import { sessionCookieName, validateSessionToken } from '../../src/lib/server/accounts/sessions';

/** A browser's cookie jar for endpoint tests: what the server set is sent on the next call. */
export type CookieJar = Map<string, string>;

export function cookiesFrom(jar: CookieJar): Cookies {
	return {
		get: (name: string) => jar.get(name),
		getAll: () => [...jar].map(([name, value]) => ({ name, value })),
		set: (name: string, value: string) => void jar.set(name, value),
		delete: (name: string) => void jar.delete(name),
		serialize: () => ''
	} as unknown as Cookies;
}

/**
 * Calls a `+server.ts` handler the way SvelteKit would after hooks.server.ts ran: `locals` filled
 * in from a test AppContext, the device and session read from the jar.
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
		jar?: CookieJar;
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
	const cookies = cookiesFrom(init.jar ?? new Map());
	const token = cookies.get(sessionCookieName(false));
	const validated = token
		? await validateSessionToken({ db: app.database.db, clock: app.clock }, token)
		: { session: null, account: null };
	const event = {
		request,
		url,
		params: {},
		locals: {
			app,
			clientAddress,
			ipCountry: app.geoip.country(clientAddress),
			deviceId: deviceIdFromCookies(cookies, false),
			session: validated.session,
			account: validated.account
		},
		getClientAddress: () => clientAddress,
		cookies,
		setHeaders: () => {},
		fetch
	} as unknown as E;
	return handler(event);
}
