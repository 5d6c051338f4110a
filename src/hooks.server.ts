import type { Handle, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { getAppContext } from '$lib/server/app';
import { resolveClientAddress } from '$lib/server/client-address';

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

const handleLang: Handle = ({ event, resolve }) =>
	resolve(event, { transformPageChunk: ({ html }) => html.replace('%lang%', 'en') });

export const handle = sequence(handleContext, handleLang);
