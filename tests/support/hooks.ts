import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
	isHttpError,
	isRedirect,
	json,
	type Cookies,
	type RequestEvent,
	type ResolveOptions
} from '@sveltejs/kit';
import type { Ctx } from '../../src/lib/server/core/context';
import {
	createHandle,
	createHandleError,
	type ContextSource
} from '../../src/lib/server/http/handle';
import { testAppContext } from './app-context';
import { testDatabases } from './databases';

/**
 * Requests through the real `handle` of the server (src/lib/server/http/handle.ts), called the
 * way SvelteKit's server (`respond` in @sveltejs/kit) calls it: SvelteKit's own cookies, headers
 * from `setHeaders` and cookies added to whatever `resolve` answered, a thrown error answered
 * through `handleError`. SvelteKit's own CSRF check of form posts (before `handle`) and its routing
 * are not repeated here: `resolve` stands in for the route.
 */

/** The origin the hook tests' requests come to. */
export const HOOK_ORIGIN = 'http://127.0.0.1:4300';

export type Resolve = (event: RequestEvent, opts?: ResolveOptions) => Response | Promise<Response>;

// `sequence` reads SvelteKit's per-request store; its runtime sets it with this (untyped) export.
// @ts-expect-error -- SvelteKit ships no types for this internal module.
const { with_request_store } = (await import('@sveltejs/kit/internal/server')) as unknown as {
	with_request_store: <T>(store: unknown, fn: () => T) => T;
};
const tracing = { record_span: ({ fn }: { fn: (span: object) => unknown }) => fn({}) };

interface KitCookie {
	name: string;
	value: string;
	options: { path: string; [attribute: string]: unknown };
}
// SvelteKit's own cookies and content negotiation (not exported by the package, so loaded by file).
const kit = dirname(createRequire(import.meta.url).resolve('@sveltejs/kit/package.json'));
const kitModule = (path: string) => import(pathToFileURL(join(kit, 'src', path)).href);
const { get_cookies, add_cookies_to_headers } = (await kitModule('runtime/server/cookie.js')) as {
	get_cookies(
		request: Request,
		url: URL
	): {
		cookies: Cookies;
		new_cookies: Map<string, KitCookie>;
		set_trailing_slash(trailingSlash: 'never' | 'always' | 'ignore'): void;
	};
	add_cookies_to_headers(headers: Headers, cookies: Iterable<KitCookie>): void;
};
const { negotiate } = (await kitModule('utils/http.js')) as {
	negotiate(accept: string, types: string[]): string | undefined;
};

/** What SvelteKit adds to the response once `resolve` answered. */
interface Pending {
	cookies: Map<string, KitCookie>;
	headers: Record<string, string>;
}
const pending = new WeakMap<RequestEvent, Pending>();

/** A request event as SvelteKit builds it before the hooks run (`locals` still empty). */
export function requestEvent(
	request: Request,
	options: { routeId?: string | null; params?: Record<string, string>; clientAddress?: string } = {}
): RequestEvent {
	const url = new URL(request.url);
	const { cookies, new_cookies, set_trailing_slash } = get_cookies(request, url);
	set_trailing_slash('never');
	const headers: Record<string, string> = {};
	const clientAddress = options.clientAddress ?? '127.0.0.1';
	const event = {
		cookies,
		fetch,
		getClientAddress: () => clientAddress,
		locals: {},
		params: options.params ?? {},
		platform: undefined,
		request,
		route: { id: options.routeId ?? null },
		setHeaders: (more: Record<string, string>) => {
			for (const [name, value] of Object.entries(more)) {
				const lower = name.toLowerCase();
				if (lower === 'set-cookie')
					throw new Error(
						'Use `event.cookies.set(name, value, options)` instead of `event.setHeaders` to set cookies'
					);
				if (lower in headers) throw new Error(`"${name}" header is already set`);
				headers[lower] = value;
			}
		},
		url,
		isDataRequest: false,
		isSubRequest: false,
		isRemoteRequest: false,
		tracing: { enabled: false, root: {}, current: {} }
	} as unknown as RequestEvent;
	pending.set(event, { cookies: new_cookies, headers });
	return event;
}

/** A request event for `path` on HOOK_ORIGIN. */
export function hookEvent(
	path: string,
	init: { method?: string; headers?: Record<string, string>; body?: BodyInit },
	routeId: string | null = null
): RequestEvent {
	const url = new URL(path, HOOK_ORIGIN);
	const request = new Request(url, {
		method: init.method ?? 'POST',
		headers: init.headers,
		body: init.body,
		duplex: 'half'
	} as RequestInit);
	return requestEvent(request, { routeId });
}

/**
 * The response SvelteKit's server sends for `event` (from `requestEvent`) with the server's hooks
 * over `context` and `resolve` in the place of the route.
 */
export async function serve(
	context: ContextSource,
	event: RequestEvent,
	resolve: Resolve
): Promise<Response> {
	const added = pending.get(event);
	if (!added) throw new Error('serve() takes an event made by requestEvent()');
	const handle = createHandle(context);
	const handleError = createHandleError(context);
	const state = { tracing };

	/** SvelteKit's `handle_fatal_error`: HttpErrors keep their status and body, the rest goes through handleError. */
	const fatal = async (thrown: unknown, at: RequestEvent): Promise<Response> => {
		if (isRedirect(thrown))
			return new Response(null, { status: thrown.status, headers: { location: thrown.location } });
		const status = isHttpError(thrown) ? thrown.status : 500;
		const body: App.Error = isHttpError(thrown)
			? thrown.body
			: ((await with_request_store({ event: at, state }, () =>
					handleError({ error: thrown, event: at, status, message: 'Internal Error' })
				)) ?? { message: 'Internal Error' });
		return negotiate(at.request.headers.get('accept') || 'text/html', [
			'application/json',
			'text/html'
		]) === 'application/json'
			? json(body, { status })
			: new Response(body.message, {
					status,
					headers: { 'content-type': 'text/html; charset=utf-8' }
				});
	};

	const resolveAsKit: Resolve = async (at, opts) => {
		let response: Response;
		try {
			response = await with_request_store({ event: at, state }, () => resolve(at, opts));
		} catch (thrown) {
			response = await fatal(thrown, at);
		}
		for (const [name, value] of Object.entries(added.headers)) response.headers.set(name, value);
		add_cookies_to_headers(response.headers, added.cookies.values());
		return response;
	};

	try {
		return await with_request_store({ event, state }, () =>
			handle({ event, resolve: resolveAsKit })
		);
	} catch (thrown) {
		// A hook that threw: SvelteKit answers a redirect with the cookies set so far, anything else as a fatal error.
		const response = await fatal(thrown, event);
		if (isRedirect(thrown)) add_cookies_to_headers(response.headers, added.cookies.values());
		return response;
	}
}

let hookContext: Promise<Ctx> | undefined;
/** The hook tests' context: a fresh in-memory SQLite database, as a server with DATABASE_URL=file::memory: has. */
const hookTestContext = (): Promise<Ctx> =>
	(hookContext ??= testDatabases[0]!.open().then((database) => testAppContext(database)));

/** The server's `handle` over the hook tests' context, called the way SvelteKit's server calls it. */
export const handle = ({ event, resolve }: { event: RequestEvent; resolve: Resolve }) =>
	serve(hookTestContext, event, resolve);
