import { redirect } from '@sveltejs/kit';
import { signInInput } from '$lib/schemas/registration';
import { countryCodes } from '$lib/server/core/countries';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { startSession } from '$lib/server/http/session-cookie';
import { requestMeta } from '$lib/server/core/request-meta';
import { signIn } from '$lib/server/accounts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (locals.account) redirect(303, '/account');
	return { countries: countryCodes, ipCountry: locals.ipCountry };
};

export const actions: Actions = {
	default: async (event) => {
		const values = await readForm(event.request, ['identifier', 'password', 'country']);
		const echo = { identifier: values.identifier ?? '', country: values.country ?? '' };
		const input = parseForm(signInInput, {
			...values,
			identifier: values.identifier ?? '',
			password: values.password ?? ''
		});
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await signIn(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		await startSession(event, result.account);
		redirect(303, '/account');
	}
};
