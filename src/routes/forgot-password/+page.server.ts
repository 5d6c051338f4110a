import { passwordResetConfirmInput, passwordResetInput } from '$lib/schemas/account';
import { countryCodes } from '$lib/server/core/countries';
import { echoedTiming, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { confirmPasswordReset, requestPasswordReset } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/core/request-meta';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryCodes,
	ipCountry: locals.ipCountry,
	passwordMinLength: locals.app.config.passwordMinLength
});

/**
 * R18 step 1, first asked or asked again from the code step (R6's resend): the same answer for
 * unknown identifiers, whose code row exists too. `from` is the step a failure goes back to.
 */
async function request(event: RequestEvent, from: 'identifier' | 'code') {
	const values = await readForm(event.request, ['identifier', 'country', ...TIMING_FIELDS]);
	const now = event.locals.app.clock.now();
	const echo = {
		step: from,
		identifier: values.identifier ?? '',
		country: values.country,
		timing: from === 'code' ? echoedTiming(values, now) : undefined
	};
	const input = parseForm(passwordResetInput, {
		identifier: values.identifier ?? '',
		country: values.country
	});
	if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
	const result = await requestPasswordReset(event.locals.app, input.data, requestMeta(event));
	if (!result.ok) return failForm(result, echo);
	return {
		step: 'code' as const,
		identifier: input.data.identifier,
		country: input.data.country,
		timing: sentTiming(result, now)
	};
}

export const actions: Actions = {
	request: (event) => request(event, 'identifier'),
	resend: (event) => request(event, 'code'),
	confirm: async (event) => {
		const values = await readForm(event.request, [
			'identifier',
			'country',
			'code',
			'newPassword',
			...TIMING_FIELDS
		]);
		const echo = {
			step: 'code' as const,
			identifier: values.identifier ?? '',
			country: values.country,
			timing: echoedTiming(values, event.locals.app.clock.now())
		};
		const input = parseForm(passwordResetConfirmInput, {
			identifier: values.identifier ?? '',
			country: values.country,
			code: values.code ?? '',
			newPassword: values.newPassword ?? ''
		});
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await confirmPasswordReset(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		return { step: 'done' as const };
	}
};
