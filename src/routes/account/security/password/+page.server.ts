import { redirect } from '@sveltejs/kit';
import { passwordChangeInput } from '$lib/schemas/account';
import { changePassword } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	return { passwordMinLength: locals.app.config.passwordMinLength };
};

export const actions: Actions = {
	default: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['currentPassword', 'newPassword']);
		const input = parseForm(passwordChangeInput, {
			currentPassword: values.currentPassword ?? '',
			newPassword: values.newPassword ?? ''
		});
		if (!input.ok) return failForm(input.failure, {});
		const result = await changePassword(event.locals.app, account, input.data, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		if (!result.ok) return failForm(result, {});
		return { done: true as const };
	}
};
