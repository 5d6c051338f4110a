import { redirect } from '@sveltejs/kit';
import { securityCheckup } from '$lib/server/checkup';
import { requestMeta } from '$lib/server/core/request-meta';
import type { PageServerLoad } from './$types';

/** Issue 16 item 1: the owner's checkup, read-only (docs/rules.md §7c). */
export const load: PageServerLoad = async (event) => {
	const { account, session } = event.locals;
	if (!account) redirect(303, '/login');
	event.setHeaders({ 'cache-control': 'no-store' });
	return {
		checkup: await securityCheckup(event.locals.app, account, {
			sessionId: session?.id ?? null,
			locale: requestMeta(event).locale
		})
	};
};
