import { passwordResetConfirmInput, passwordResetInput } from '$lib/schemas/account';
import { countryCodes } from '$lib/server/core/countries';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { confirmPasswordReset, requestPasswordReset } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/core/request-meta';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryCodes,
	ipCountry: locals.ipCountry,
	passwordMinLength: locals.app.config.passwordMinLength
});

// R18: identifier → code → new password → done; the same answers for unknown identifiers.
export const actions: Actions = {
	request: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = {
			step: 'identifier' as const,
			identifier: values.identifier ?? '',
			country: values.country
		};
		const input = parseForm(passwordResetInput, { ...values, identifier: values.identifier ?? '' });
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await requestPasswordReset(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		return {
			step: 'code' as const,
			identifier: input.data.identifier,
			country: input.data.country
		};
	},
	confirm: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country', 'code', 'newPassword']);
		const echo = {
			step: 'code' as const,
			identifier: values.identifier ?? '',
			country: values.country
		};
		const input = parseForm(passwordResetConfirmInput, {
			...values,
			identifier: values.identifier ?? '',
			code: values.code ?? '',
			newPassword: values.newPassword ?? ''
		});
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await confirmPasswordReset(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		return { step: 'done' as const };
	}
};
