import { redirect } from '@sveltejs/kit';
import { pendingRecovery } from '$lib/server/appeals';
import { securityCheckup } from '$lib/server/checkup';
import { requestMeta } from '$lib/server/http/request-meta';
import { cancelRecoveryAction } from '../recovery-cancel-action';
import type { Actions, PageServerLoad } from './$types';

/** The owner's checkup (docs/rules.md §7c), with a pending recovery (§8a). */
export const load: PageServerLoad = async (event) => {
	const { account, session } = event.locals;
	if (!account) redirect(303, '/login');
	event.setHeaders({ 'cache-control': 'no-store' });
	const [checkup, recovery] = await Promise.all([
		securityCheckup(event.locals.app, account, {
			sessionId: session?.id ?? null,
			locale: requestMeta(event).locale
		}),
		pendingRecovery(event.locals.app, account)
	]);
	return { checkup, recovery };
};

export const actions: Actions = {
	// §8a: the owner stops a pending recovery with the current password.
	cancelRecovery: cancelRecoveryAction
};
