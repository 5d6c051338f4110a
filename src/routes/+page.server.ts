import { fail } from '@sveltejs/kit';
import { countryCodes } from '$lib/server/countries';
import { checkInput } from '$lib/schemas/check';
import { runCheck } from '$lib/server/check';
import { m } from '$lib/paraglide/messages';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryCodes,
	ipCountry: locals.ipCountry
});

export const actions: Actions = {
	// R14: the check with JavaScript off; the identifier travels in the POST body, never the URL.
	default: async ({ request, locals }) => {
		const form = await request.formData();
		const identifier = String(form.get('identifier') ?? '');
		const country = String(form.get('country') ?? '') || undefined;
		const input = checkInput.safeParse({ identifier, country });
		if (!input.success) {
			return fail(400, { identifier, country, error: { code: 'invalid_request', message: input.error.issues[0]?.message ?? m.error_invalid_request() } });
		}
		const outcome = await runCheck(locals.app, input.data);
		if (!outcome.ok) {
			return fail(400, { identifier, country, error: { code: outcome.code, message: outcome.message } });
		}
		return { identifier, country, report: outcome.report };
	}
};
