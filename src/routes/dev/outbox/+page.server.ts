import { error } from '@sveltejs/kit';
import { devOutboxAllowed, listRecentOutbox } from '$lib/server/messaging';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
	// R7: the developer's inbox shows codes in clear, so production answers as if it did not exist.
	if (!devOutboxAllowed(locals.app.config)) error(404, 'Not found');
	setHeaders({ 'cache-control': 'no-store', 'x-robots-tag': 'noindex' });
	return { messages: await listRecentOutbox(locals.app, 100) };
};
