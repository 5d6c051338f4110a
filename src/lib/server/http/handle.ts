import type { Handle, HandleServerError } from '@sveltejs/kit';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
	extractLocaleFromRequest,
	getServerAsyncLocalStorage,
	overwriteServerAsyncLocalStorage
} from '$lib/paraglide/runtime';
import { validateSessionToken } from '../accounts';
import { chooseTimeZone, TIME_ZONE_COOKIE } from '$lib/format/time-zones';
import type { Ctx } from '../core/context';
import { isConnectionError } from '../db/errors';
import { resolveClientAddress } from '../platform/client-address';
import { validateAgentSessionToken } from '../support';
import { agentSessionTokenFromCookie, deleteAgentSessionCookie } from './agent-session-cookie';
import { handleBodyLimit } from './body-limit';
import { chain } from './chain';
import { deviceIdFromCookie } from './device-cookie';
import { handleOriginCheck } from './origin-check';
import { handleSecurityHeaders } from './security-headers';
import { handleUnavailable, markUnavailable } from './unavailable';
import { deleteSessionCookie, sessionTokenFromCookie } from './session-cookie';

/** Where the hooks get the context: the process's (hooks.server.ts) or a test's. */
export type ContextSource = () => Promise<Ctx> | Ctx;

/**
 * Every request's way through the server, in this order: request id and log line, security
 * headers, the 503 of a database outage (in a route or in a hook below it), foreign origins and
 * oversized bodies refused before any database work, then the context, the buyer's session, the support session and the request's language.
 * hooks.server.ts serves it with the process context; endpoint tests run it with theirs.
 */
export function createHandle(context: ContextSource): Handle {
	return chain(
		requestLog(context),
		handleSecurityHeaders,
		handleUnavailable(context),
		handleOriginCheck,
		handleBodyLimit,
		handleContext(context),
		handleSession,
		handleAgentSession,
		handleLocale
	);
}

/** A database outage answers 503 + Retry-After (see handleUnavailable); the rest is logged. */
export function createHandleError(context: ContextSource): HandleServerError {
	return async ({ error, event, status, message }) => {
		const { log } = event.locals.app ?? (await context());
		if (isConnectionError(error)) {
			markUnavailable(event, log, error);
			return {
				message: 'The service is briefly unavailable. Try again in a few seconds.',
				code: 'unavailable',
				requestId: event.locals.requestId
			};
		}
		if (status >= 500) {
			log.error({
				event: 'request.error',
				requestId: event.locals.requestId,
				route: event.route.id,
				message: (error as Error)?.message
			});
		}
		// A server error names its request id on the error page, for support to find the log line.
		return status >= 500
			? { message, code: 'internal_error', requestId: event.locals.requestId }
			: { message, code: 'error' };
	};
}

/**
 * A request id for every request (the proxy's when it sent a sane one), echoed in the response and
 * in the one log line per request. Paths are route ids, never URLs with data in them (R4).
 */
function requestLog(context: ContextSource): Handle {
	return async ({ event, resolve }) => {
		const incoming = event.request.headers.get('x-request-id');
		event.locals.requestId =
			incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
		const started = performance.now();
		const response = await resolve(event);
		// A request refused before handleContext has no context yet.
		const { log } = event.locals.app ?? (await context());
		log.info({
			event: 'request',
			requestId: event.locals.requestId,
			method: event.request.method,
			route: event.route.id ?? 'unmatched',
			status: response.status,
			ms: Math.round((performance.now() - started) * 10) / 10
		});
		try {
			response.headers.set('x-request-id', event.locals.requestId);
		} catch {
			// An immutable response (never ours): the id is still in the log.
		}
		return response;
	};
}

function handleContext(context: ContextSource): Handle {
	return async ({ event, resolve }) => {
		const app = await context();
		event.locals.app = app;
		// The client's address (its X-Forwarded-For parsing and canonical form), the network's
		// country (R9) and R10's device cookie, each made on first use: a request that never asks
		// (a page view, the metrics scrape, a no-op) pays for no parsing, lookup, token, hash or
		// Set-Cookie.
		let clientAddress: string | undefined;
		let ipCountry: string | null | undefined;
		let deviceId: string | undefined;
		let timeZone: string | undefined;
		Object.defineProperties(event.locals, {
			clientAddress: {
				enumerable: true,
				get: () =>
					(clientAddress ??= resolveClientAddress(
						event.request.headers,
						() => event.getClientAddress(),
						app.config.trustProxy
					))
			},
			ipCountry: {
				enumerable: true,
				get: () =>
					ipCountry === undefined
						? (ipCountry = app.geoip.country(event.locals.clientAddress))
						: ipCountry
			},
			deviceId: {
				enumerable: true,
				get: () => (deviceId ??= deviceIdFromCookie(event))
			},
			// Issue 26: the browser's zone (its `tz` cookie), else the network country's main zone.
			timeZone: {
				enumerable: true,
				get: () =>
					(timeZone ??= chooseTimeZone(
						event.cookies.get(TIME_ZONE_COOKIE),
						() => event.locals.ipCountry
					))
			}
		});
		return resolve(event);
	};
}

/**
 * Buyer session from its cookie; an expired or unknown one is cleared (Lucia guide). Without a
 * cookie it goes straight on (no promise of its own: most requests carry none).
 */
const handleSession: Handle = ({ event, resolve }) => {
	const token = sessionTokenFromCookie(event);
	event.locals.session = null;
	event.locals.account = null;
	if (!token) return resolve(event);
	return validateSessionToken(event.locals.app, token).then((result) => {
		if (result.session) {
			event.locals.session = result.session;
			event.locals.account = result.account;
		} else {
			deleteSessionCookie(event);
		}
		return resolve(event);
	});
};

/**
 * R22: the support console's own session, read only under /support (its cookie travels nowhere
 * else). Pages, actions and document downloads still check the role themselves.
 */
const handleAgentSession: Handle = ({ event, resolve }) => {
	event.locals.agent = null;
	event.locals.agentSession = null;
	const { pathname } = event.url;
	if (pathname !== '/support' && !pathname.startsWith('/support/')) return resolve(event);
	const token = agentSessionTokenFromCookie(event);
	if (!token) return resolve(event);
	return validateAgentSessionToken(event.locals.app, token).then((result) => {
		if (result.session) {
			event.locals.agent = result.agent;
			event.locals.agentSession = result.session;
		} else {
			deleteAgentSessionCookie(event);
		}
		return resolve(event);
	});
};

/**
 * Where Paraglide's message functions find the request's language (its runtime reads this store).
 * Paraglide's own middleware would also copy the request (`new Request(request.clone())`), whose
 * copy starts reading the body before the route has decided whether to read it at all (R19: an
 * upload over the budget, or an answer to someone else's appeal, is refused before a byte is
 * read), and costs every request a Request and a URL. With the cookie, Accept-Language and base
 * strategies there is nothing to redirect or de-localize, so the language is all it needs.
 */
type LocaleStore = Parameters<typeof overwriteServerAsyncLocalStorage>[0];
const localeStorage: NonNullable<LocaleStore> =
	getServerAsyncLocalStorage() ?? (new AsyncLocalStorage() as NonNullable<LocaleStore>);
overwriteServerAsyncLocalStorage(localeStorage);

/** The request's language for pages and API messages: cookie, then Accept-Language, then en. */
const handleLocale: Handle = ({ event, resolve }) => {
	const locale = extractLocaleFromRequest(event.request);
	return localeStorage.run({ locale, origin: event.url.origin, messageCalls: new Set() }, () =>
		resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', locale) })
	);
};
