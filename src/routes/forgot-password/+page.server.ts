import { passwordResetConfirmInput, passwordResetInput } from '$lib/schemas/account';
import { countryCodes } from '$lib/server/core/countries';
import { echoedTiming, readCodeStep, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
import {
	changeTyped,
	forgetTyped,
	readTyped,
	rememberTyped,
	resumeOnGet,
	resumePosted
} from '$lib/server/http/code-step-cookie';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import {
	confirmPasswordReset,
	pendingPasswordReset,
	requestPasswordReset
} from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/**
 * Issue 26: a plain GET (a reload, a return from the mail app) shows the code step again while
 * the code for what this browser typed (its own sealed cookie) is live. It sends nothing, and it
 * answers alike whether or not an account uses the identifier (R18: the row exists either way).
 */
export const load: PageServerLoad = async (event) => {
	const { locals } = event;
	return {
		countries: countryCodes,
		ipCountry: locals.ipCountry,
		passwordMinLength: locals.app.config.passwordMinLength,
		...(await resumeOnGet(event, 'forgot', (typed) => resumable(event, typed)))
	};
};

async function resumable(event: RequestEvent, typed: { identifier: string; country: string }) {
	const input = { identifier: typed.identifier, country: typed.country || undefined };
	const live = await pendingPasswordReset(event.locals.app, input);
	return live ? codeStep(input, sentTiming(live, event.locals.app.clock.now())) : undefined;
}

function codeStep(
	typed: { identifier: string; country?: string | undefined },
	timing: ReturnType<typeof sentTiming> | undefined
) {
	return { step: 'code' as const, identifier: typed.identifier, country: typed.country, timing };
}

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
	if (!input.ok) return failForm(input.failure, echo);
	const result = await requestPasswordReset(event.locals.app, input.data, requestMeta(event));
	if (!result.ok) return failForm(result, echo);
	// Issue 26: kept (sealed, HttpOnly) for this browser's next plain GET.
	const typed = { identifier: input.data.identifier, country: input.data.country ?? '' };
	rememberTyped(event, 'forgot', { ...typed, pending: true });
	return codeStep(input.data, sentTiming(result, now));
}

export const actions: Actions = {
	request: (event) => request(event, 'identifier'),
	resend: (event) => request(event, 'code'),
	/**
	 * Issue 26: the check report's "Forgot your password?", a POST so the address stays out of the
	 * URL: the code step if this browser already asked for this address and its code is live
	 * (never a new code), else the first step filled in with what was checked.
	 */
	resume: async (event) => {
		// Only an address this browser itself asked a code for (its cookie) resumes.
		const before = readTyped(event, 'forgot');
		const { typed, step } = await resumePosted(event, 'forgot', async (t) =>
			before?.pending && before.identifier === t.identifier.trim()
				? resumable(event, before)
				: undefined
		);
		return step ?? { step: 'identifier' as const, ...typed };
	},
	/** Issue 26: "Wrong address? Change it": the first step, filled in; the code is left as it is. */
	change: async (event) => ({
		step: 'identifier' as const,
		...(await changeTyped(event, 'forgot'))
	}),
	confirm: async (event) => {
		const { values, echo } = await readCodeStep(event, ['newPassword']);
		const input = parseForm(passwordResetConfirmInput, {
			identifier: values.identifier ?? '',
			country: values.country,
			code: values.code ?? '',
			newPassword: values.newPassword ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const result = await confirmPasswordReset(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, echo);
		forgetTyped(event, 'forgot');
		return { step: 'done' as const };
	}
};
