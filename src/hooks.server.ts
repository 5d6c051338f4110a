import type { Handle, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { getAppContext } from '$lib/server/app';
import { resolveClientAddress } from '$lib/server/client-address';
import { paraglideMiddleware } from '$lib/paraglide/server';

/** Configuration is checked and migrations applied before the server accepts a request. */
export const init: ServerInit = async () => {
	await getAppContext();
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
	return resolve(event);
};

/** The request's language for pages and API messages: cookie, then Accept-Language, then en. */
const handleLocale: Handle = ({ event, resolve }) =>
	paraglideMiddleware(event.request, ({ request, locale }) => {
		event.request = request;
		return resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', locale) });
	});

export const handle = sequence(handleContext, handleLocale);
