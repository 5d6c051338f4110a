import { isActionFailure, isHttpError, isRedirect, json, type RequestEvent } from '@sveltejs/kit';
import type { Ctx } from '../../src/lib/server/core/context';
import { requestEvent, serve } from './hooks';

/**
 * A browser's cookie jar for endpoint tests, by cookie name: sent with each call, and what the
 * server's `set-cookie` headers say is stored in it afterwards (deleted when they expire it).
 */
export type CookieJar = Map<string, string>;

/** The origin endpoint tests' requests come to. */
export const ENDPOINT_ORIGIN = 'http://127.0.0.1';

/**
 * Calls a `+server.ts` handler (or a form action) the way a request reaches it in the server:
 * through the real `handle` (src/lib/server/http/handle.ts) over `app`, with `handler` in the
 * place of the route. The route id, and so the path and method when not given, are those of the
 * module that exports `handler`; a wrapped handler names its route by `path`.
 *
 * Answers what the server sends, `set-cookie` included. Two ways the old hand-built calls had are
 * kept so tests read the same: an `error()` or `redirect()` the handler threw is thrown here (when
 * the hooks passed its answer on unchanged), and a form action's result is returned as such.
 */
export async function callEndpoint<E extends RequestEvent, R = Response>(
	handler: (event: E) => R | Promise<R>,
	app: Ctx,
	init: {
		method?: string;
		path?: string;
		json?: unknown;
		body?: BodyInit;
		headers?: Record<string, string>;
		clientAddress?: string;
		jar?: CookieJar;
		/** A request built by the test (a streaming body it watches); replaces body, headers and method. */
		request?: Request;
	} = {}
): Promise<R> {
	const route = await routeOf(handler, init.path);
	const url = new URL(init.path ?? pathOf(route), ENDPOINT_ORIGIN);
	const headers = new Headers(init.headers);
	let body = init.body;
	if (init.json !== undefined) {
		body = JSON.stringify(init.json);
		if (!headers.has('content-type')) headers.set('content-type', 'application/json');
	}
	if (init.jar?.size && !headers.has('cookie')) headers.set('cookie', cookieHeader(init.jar));
	const method = init.method ?? route?.method ?? 'POST';
	const request =
		init.request ?? new Request(url, { method, headers, body, duplex: 'half' } as RequestInit);
	const event = requestEvent(request, {
		routeId: route?.id ?? null,
		params: (route && paramsOf(route.id, url.pathname)) ?? {},
		clientAddress: init.clientAddress
	});

	// What the handler did, and the answer made of it, to tell whether the hooks passed it on.
	let outcome: { thrown: unknown } | { result: R } | undefined;
	let answer: Response | undefined;
	const response = await serve(
		() => app,
		event,
		async (at) => {
			try {
				const result = await handler(at as E);
				outcome = { result };
				// A form action's result: the page SvelteKit renders with it has its status.
				answer =
					result instanceof Response
						? result
						: json(isActionFailure(result) ? result.data : (result ?? null), {
								status: isActionFailure(result) ? result.status : 200
							});
			} catch (thrown) {
				outcome = { thrown };
				if (!isHttpError(thrown) && !isRedirect(thrown)) throw thrown; // answered through handleError
				answer = isRedirect(thrown)
					? new Response(null, { status: thrown.status, headers: { location: thrown.location } })
					: json(thrown.body, { status: thrown.status });
			}
			return answer;
		}
	);
	if (init.jar) storeCookies(init.jar, response);
	if (outcome && response === answer) {
		if ('thrown' in outcome) throw outcome.thrown;
		if (!(outcome.result instanceof Response)) return outcome.result;
	}
	return response as R;
}

function cookieHeader(jar: CookieJar): string {
	return [...jar].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
}

/** What a browser keeps of the response's cookies (by name; paths and expiry dates are not modelled). */
function storeCookies(jar: CookieJar, response: Response): void {
	for (const line of response.headers.getSetCookie()) {
		const [pair = '', ...attributes] = line.split(';');
		const at = pair.indexOf('=');
		const name = pair.slice(0, at).trim();
		const value = decodeURIComponent(pair.slice(at + 1).trim());
		const maxAge = attributes
			.map((a) => a.trim().split('='))
			.find(([key]) => key?.toLowerCase() === 'max-age')?.[1];
		if (maxAge !== undefined && Number(maxAge) <= 0) jar.delete(name);
		else jar.set(name, value);
	}
}

interface Route {
	id: string;
	/** The export name of a `+server.ts` handler. */
	method?: string;
	/** The name of a form action. */
	action?: string;
}

const routeModules = import.meta.glob<Record<string, unknown>>([
	'/src/routes/**/+server.ts',
	'/src/routes/**/+page.server.ts'
]);
const routeIdOf = (file: string) =>
	file.replace(/^\/src\/routes/, '').replace(/\/\+(server|page\.server)\.ts$/, '') || '/';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

let handlers: Promise<Map<unknown, Route>> | undefined;
/** Every route handler and form action of the app, by the function. */
function routeHandlers(): Promise<Map<unknown, Route>> {
	handlers ??= Promise.all(
		Object.entries(routeModules).map(async ([file, load]) => {
			const module = await load();
			const id = routeIdOf(file);
			const found: [unknown, Route][] = METHODS.filter(
				(method) => typeof module[method] === 'function'
			).map((method) => [module[method], { id, method }]);
			const actions = (module.actions ?? {}) as Record<string, unknown>;
			for (const [action, fn] of Object.entries(actions))
				found.push([fn, { id, method: 'POST', action }]);
			return found;
		})
	).then((lists) => new Map(lists.flat()));
	return handlers;
}

/** The handler's own route, else the route `path` is on (SvelteKit's choice: fewest parameters). */
async function routeOf(handler: unknown, path: string | undefined): Promise<Route | undefined> {
	const own = (await routeHandlers()).get(handler);
	if (own || path === undefined) return own;
	const { pathname } = new URL(path, ENDPOINT_ORIGIN);
	const candidates = Object.keys(routeModules)
		.map(routeIdOf)
		.filter((id) => paramsOf(id, pathname) !== null)
		.sort((a, b) => (a.match(/\[/g)?.length ?? 0) - (b.match(/\[/g)?.length ?? 0));
	return candidates[0] === undefined ? undefined : { id: candidates[0] };
}

/** The route's path: its id, with the action as SvelteKit's forms name it. */
function pathOf(route: Route | undefined): string {
	if (!route) return '/';
	if (route.id.includes('['))
		throw new Error(`callEndpoint: route ${route.id} has parameters; give the path`);
	return route.action && route.action !== 'default' ? `${route.id}?/${route.action}` : route.id;
}

/** `[name]` segments of the route id that `pathname` fills, or null when it is not on the route. */
function paramsOf(id: string, pathname: string): Record<string, string> | null {
	const names: string[] = [];
	const pattern = id
		.split('/')
		.filter((segment) => !/^\(.+\)$/.test(segment))
		.map((segment) => {
			const param = /^\[(\w+)\]$/.exec(segment);
			if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
			names.push(param[1]!);
			return '([^/]+)';
		})
		.join('/');
	const match = new RegExp(`^${pattern || '/'}/?$`).exec(pathname);
	return match
		? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]))
		: null;
}
