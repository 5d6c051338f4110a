import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { getAppContext, startupProblem } from '$lib/server/core/context';
import { resolveClientAddress } from '$lib/server/platform/client-address';
import { paraglideMiddleware } from '$lib/paraglide/server';
import { deviceIdFromCookies } from '$lib/server/accounts/devices';
import { handleSecurityHeaders } from '$lib/server/http/security-headers';
import { handleBodyLimit } from '$lib/server/http/body-limit';
import { handleOriginCheck } from '$lib/server/http/origin-check';
import { isConnectionError } from '$lib/server/db/database';
import { log } from '$lib/server/core/log';
import { deleteSessionTokenCookie, sessionCookieName, validateSessionToken } from '$lib/server/accounts/sessions';
import { agentSessionCookieName, deleteAgentSessionCookie, validateAgentSessionToken } from '$lib/server/support/agent-sessions';

/** Configuration is checked and migrations applied before the server accepts a request. */
export const init: ServerInit = async () => {
	try {
		await getAppContext();
	} catch (error) {
		// A configuration the operator must fix (a missing key ring, a bad variable) is one line.
		const line = startupProblem(error);
		if (!line) throw error;
		console.error(line);
		process.exit(1);
	}
};

/**
 * A request id for every request (the proxy's when it sent a sane one), echoed in the response and
 * in the one log line per request. Paths are route ids, never URLs with data in them (R4).
 */
const handleRequestLog: Handle = async ({ event, resolve }) => {
	const incoming = event.request.headers.get('x-request-id');
	event.locals.requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
	const started = performance.now();
	const response = await resolve(event);
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

const handleContext: Handle = async ({ event, resolve }) => {
	const app = await getAppContext();
	event.locals.app = app;
	event.locals.clientAddress = resolveClientAddress(
		event.request.headers,
		() => event.getClientAddress(),
		app.config.trustProxy
	);
	event.locals.ipCountry = app.geoip.country(event.locals.clientAddress);
	event.locals.deviceId = deviceIdFromCookies(event.cookies, event.url.protocol === 'https:');
	return resolve(event);
};

/** Buyer session from its cookie; an expired or unknown one is cleared (Lucia guide). */
const handleSession: Handle = async ({ event, resolve }) => {
	const { app } = event.locals;
	const secure = event.url.protocol === 'https:';
	const token = event.cookies.get(sessionCookieName(secure));
	event.locals.session = null;
	event.locals.account = null;
	if (token) {
		const result = await validateSessionToken({ db: app.database.db, clock: app.clock }, token);
		if (result.session) {
			event.locals.session = result.session;
			event.locals.account = result.account;
		} else {
			deleteSessionTokenCookie(event.cookies, secure);
		}
	}
	return resolve(event);
};

/**
 * R22: the support console's own session, read only under /support (its cookie travels nowhere
 * else). Pages, actions and document downloads still check the role themselves.
 */
const handleAgentSession: Handle = async ({ event, resolve }) => {
	event.locals.agent = null;
	event.locals.agentSession = null;
	if (event.url.pathname === '/support' || event.url.pathname.startsWith('/support/')) {
		const { app } = event.locals;
		const secure = event.url.protocol === 'https:';
		const token = event.cookies.get(agentSessionCookieName(secure));
		if (token) {
			const result = await validateAgentSessionToken({ db: app.database.db, clock: app.clock }, token);
			if (result.session) {
				event.locals.agent = result.agent;
				event.locals.agentSession = result.session;
			} else {
				deleteAgentSessionCookie(event.cookies, secure);
			}
		}
	}
	return resolve(event);
};

/** The request's language for pages and API messages: cookie, then Accept-Language, then en. */
const handleLocale: Handle = ({ event, resolve }) =>
	paraglideMiddleware(event.request, ({ request, locale }) => {
		event.request = request;
		return resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', locale) });
	});

// Foreign origins and oversized bodies are refused before any database work.
export const handle = sequence(
	handleRequestLog,
	handleSecurityHeaders,
	handleOriginCheck,
	handleBodyLimit,
	handleContext,
	handleSession,
	handleAgentSession,
	handleLocale
);

/** A database outage answers 503 + Retry-After (see handleSecurityHeaders); the rest is logged. */
export const handleError: HandleServerError = ({ error, event, status, message }) => {
	if (isConnectionError(error)) {
		event.locals.unavailable = true;
		log.warn({ event: 'db.unavailable', requestId: event.locals.requestId, route: event.route.id, message: (error as Error)?.message });
		return { message: 'The service is briefly unavailable. Try again in a few seconds.', code: 'unavailable' };
	}
	if (status >= 500) {
		log.error({ event: 'request.error', requestId: event.locals.requestId, route: event.route.id, message: (error as Error)?.message });
	}
	return { message, code: status >= 500 ? 'internal_error' : 'error' };
};
