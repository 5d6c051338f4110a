import type { Handle, RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { extractLocaleFromRequest } from '$lib/paraglide/runtime';
import type { Ctx } from '../core/context';
import { isConnectionError } from '../db/errors';

type Log = Ctx['log'];
/** The hooks' context source (handle.ts), for the log of a request refused before it has one. */
type LogSource = () => Promise<Pick<Ctx, 'log'>> | Pick<Ctx, 'log'>;

/**
 * docs/api.md §2: a database that does not answer is `503 unavailable` + `Retry-After: 5`
 * wherever it failed. In a route, `handleError` marks the request and the 500 SvelteKit rendered
 * is replaced here. In a hook after this one (the buyer's or the support session read before any
 * route), the error is caught here: SvelteKit would answer a hook's error itself, past every hook,
 * with a plain 500.
 */
export function handleUnavailable(context: LogSource): Handle {
	return async ({ event, resolve }) => {
		let response: Response;
		try {
			response = await resolve(event);
		} catch (error) {
			if (!isConnectionError(error)) throw error;
			markUnavailable(event, (event.locals.app ?? (await context())).log, error);
			return unavailableResponse(event);
		}
		return event.locals.unavailable && response.status === 500
			? unavailableResponse(event)
			: response;
	};
}

/** Notes a database outage on the request (its answer becomes the 503) and in the log. */
export function markUnavailable(event: RequestEvent, log: Log, error: unknown): void {
	event.locals.unavailable = true;
	log.warn({
		event: 'db.unavailable',
		requestId: event.locals.requestId,
		route: event.route.id,
		message: (error as Error)?.message
	});
}

function unavailableResponse(event: RequestEvent): Response {
	const message = m.error_service_unavailable(
		{},
		{ locale: extractLocaleFromRequest(event.request) }
	);
	const headers = { 'retry-after': '5', 'cache-control': 'no-store' };
	return event.url.pathname.startsWith('/api/')
		? Response.json({ error: { code: 'unavailable', message } }, { status: 503, headers })
		: new Response(message, {
				status: 503,
				headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }
			});
}
