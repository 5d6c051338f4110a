import { redirect } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { accountFreezeInput } from '$lib/schemas/freeze';
import { freezeOwnAccount } from '$lib/server/accounts';
import { failure } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { deleteSessionCookie } from '$lib/server/http/session-cookie';
import type { Actions, PageServerLoad } from './$types';

/** Rules §7b: what freezing does, how it is lifted, and the form (the password, a confirm box). */
export const load: PageServerLoad = ({ locals, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	return {};
};

export const actions: Actions = {
	default: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['currentPassword', 'confirm']);
		if (values.confirm !== 'yes')
			return failForm(
				failure(400, 'confirm_required', m.error_freeze_confirm(), { field: 'confirm' }),
				{}
			);
		const input = parseForm(accountFreezeInput, { currentPassword: values.currentPassword ?? '' });
		if (!input.ok) return failForm(input.failure, {});
		const result = await freezeOwnAccount(
			event.locals.app,
			account,
			input.data.currentPassword,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, {});
		// Every session ended with the freeze, this one too: its cookie goes. The page is still drawn
		// for this request (JavaScript off), with the answer, before the browser is signed out.
		deleteSessionCookie(event);
		return { frozen: true as const };
	}
};
