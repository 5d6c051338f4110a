import { redirect } from '@sveltejs/kit';
import { signInInput } from '$lib/schemas/registration';
import { secondFactorCodeInput } from '$lib/schemas/two-step';
import { countryCodes } from '$lib/server/core/countries';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import {
	afterPassword,
	finishSignIn,
	forgetPendingSignIn,
	pendingSignInToken
} from '$lib/server/http/pending-sign-in-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { signIn } from '$lib/server/accounts';
import { pendingSignInMethods, verifySecondFactor } from '$lib/server/two-step';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
	if (locals.account) redirect(303, '/account');
	// A right password waiting for its second factor: the page shows the second step.
	const methods = await pendingSignInMethods(locals.app, pendingSignInToken(cookies));
	return {
		countries: countryCodes,
		ipCountry: locals.ipCountry,
		secondFactor: methods,
		// Passkeys need ORIGIN (their relying party); without it the page offers none (503 otherwise).
		passkeys: Boolean(locals.app.config.origin)
	};
};

/** What was checked, as the sign-in form's own fields take it (R14). */
const checkedInput = signInInput.pick({ identifier: true, country: true });

export const actions: Actions = {
	/**
	 * R14: the check report's "Sign in", a POST so what was checked stays out of the URL. It only
	 * fills the first field (what the person typed, parsed as the sign-in form would); nothing is
	 * signed in, kept or sent.
	 */
	fromCheck: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = { identifier: (values.identifier ?? '').slice(0, 320), country: '' };
		const input = parseForm(checkedInput, values);
		if (!input.ok) return failForm(input.failure, echo);
		return { identifier: input.data.identifier, country: input.data.country ?? '' };
	},
	signIn: async (event) => {
		const values = await readForm(event.request, ['identifier', 'password', 'country']);
		const echo = { identifier: values.identifier ?? '', country: values.country ?? '' };
		const input = parseForm(signInInput, {
			...values,
			identifier: values.identifier ?? '',
			password: values.password ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const result = await signIn(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		const next = await afterPassword(event, result.account);
		if ('ok' in next) return failForm(next, echo);
		if (next.session) redirect(303, '/account');
		// The load that follows reads the pending cookie and shows the second step.
		return { secondStep: true };
	},
	secondFactor: async (event) => {
		const values = await readForm(event.request, ['code']);
		const input = parseForm(secondFactorCodeInput, { code: values.code ?? '' });
		if (!input.ok) return failForm(input.failure, { secondStep: true });
		const result = await verifySecondFactor(
			event.locals.app,
			{ token: pendingSignInToken(event.cookies), code: input.data.code },
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, { secondStep: true });
		const ended = await finishSignIn(event, result);
		if (ended) return failForm(ended, { secondStep: true });
		redirect(303, '/account');
	},
	cancel: async (event) => {
		forgetPendingSignIn(event);
		redirect(303, '/login');
	}
};
