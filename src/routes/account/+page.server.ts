import { redirect } from '@sveltejs/kit';
import { accountSummary } from '$lib/server/check';
import { endSession } from '$lib/server/http/session-cookie';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	return {
		summary: await accountSummary(locals.app, locals.account),
		welcome: url.searchParams.has('welcome')
	};
};

export const actions: Actions = {
	signOut: async (event) => {
		await endSession(event);
		redirect(303, '/login');
	}
};
