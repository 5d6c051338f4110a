import { redirect } from '@sveltejs/kit';
import { pendingRecovery } from '$lib/server/appeals';
import { accountSummary } from '$lib/server/check';
import { deletionDueAt } from '$lib/server/data-rights';
import { endSession } from '$lib/server/http/session-cookie';
import { keepAccountAction } from './data/deletion-actions';
import { cancelRecoveryAction } from './recovery-cancel-action';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const [summary, recovery] = await Promise.all([
		accountSummary(locals.app, locals.account),
		pendingRecovery(locals.app, locals.account)
	]);
	return {
		summary,
		recovery,
		// R28: a deletion the owner asked for, waiting its 14 days.
		deletionDueAt: deletionDueAt(locals.account)?.toISOString() ?? null,
		welcome: url.searchParams.has('welcome')
	};
};

export const actions: Actions = {
	signOut: async (event) => {
		await endSession(event);
		redirect(303, '/login');
	},
	// §8a: the owner stops a pending recovery with the current password.
	cancelRecovery: cancelRecoveryAction,
	// R28: the owner, signed in again during the 14 days, keeps the account.
	keepAccount: keepAccountAction
};
