import { redirect } from '@sveltejs/kit';
import { pendingRecovery } from '$lib/server/appeals';
import { accountSummary } from '$lib/server/check';
import { endSession } from '$lib/server/http/session-cookie';
import { cancelRecoveryAction } from './recovery-cancel-action';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const [summary, recovery] = await Promise.all([
		accountSummary(locals.app, locals.account),
		pendingRecovery(locals.app, locals.account)
	]);
	return { summary, recovery, welcome: url.searchParams.has('welcome') };
};

export const actions: Actions = {
	signOut: async (event) => {
		await endSession(event);
		redirect(303, '/login');
	},
	// §8a: the owner stops a pending recovery with the current password.
	cancelRecovery: cancelRecoveryAction
};
