import { redirect } from '@sveltejs/kit';
import { recoveryCancelOwnerInput } from '$lib/schemas/recovery';
import { cancelRecoveryByOwner, pendingRecovery } from '$lib/server/appeals';
import { accountSummary } from '$lib/server/check';
import { requestMeta } from '$lib/server/core/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { endSession } from '$lib/server/http/session-cookie';
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
