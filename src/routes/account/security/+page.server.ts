import { redirect } from '@sveltejs/kit';
import { recoveryCancelOwnerInput } from '$lib/schemas/recovery';
import { cancelRecoveryByOwner, pendingRecovery } from '$lib/server/appeals';
import { securityCheckup } from '$lib/server/checkup';
import { requestMeta } from '$lib/server/core/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

/** Issue 16 item 1: the owner's checkup (docs/rules.md §7c), with a pending recovery (§8a). */
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
	cancelRecovery: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const input = parseForm(
			recoveryCancelOwnerInput,
			await readForm(event.request, ['currentPassword'])
		);
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, {});
		const result = await cancelRecoveryByOwner(
			event.locals.app,
			account,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, {});
		return { recoveryCancelled: true as const };
	}
};
