import { passwordResetLinkConfirmInput } from '$lib/schemas/freeze';
import { confirmPasswordResetByLink } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { linkTokenPage } from '$lib/server/http/link-page';
import type { Actions, PageServerLoad } from './$types';

/**
 * Rules §7 (R18): the reset link's page. Opening it changes nothing — mail scanners fetch links
 * before people do — it only asks for the new password; the POST below uses the link.
 */
export const load: PageServerLoad = linkTokenPage;

export const actions: Actions = {
	default: async (event) => {
		const values = await readForm(event.request, ['token', 'newPassword']);
		const input = parseForm(passwordResetLinkConfirmInput, {
			token: values.token ?? '',
			newPassword: values.newPassword ?? ''
		});
		if (!input.ok) return failForm(input.failure, {});
		const result = await confirmPasswordResetByLink(
			event.locals.app,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, {});
		return { done: true as const };
	}
};
