import { redirect } from '@sveltejs/kit';
import {
	registrationConfirmInput,
	registrationInput,
	resendInput
} from '$lib/schemas/registration';
import { countryCodes } from '$lib/server/core/countries';
import { failures } from '$lib/server/core/failures';
import { echoedTiming, readCodeStep, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
import {
	changeTyped,
	forgetTyped,
	rememberTyped,
	resumeOnGet,
	resumePosted
} from '$lib/server/http/code-step-cookie';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import {
	forgetRegistrationToken,
	registrationStarter,
	registrationToken
} from '$lib/server/http/registration-cookie';
import { startSession } from '$lib/server/http/session-cookie';
import {
	confirmRegistration,
	ipCountryMismatch,
	pendingRegistration,
	resendRegistrationCode,
	startRegistration,
	type CodeSent
} from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { m } from '$lib/paraglide/messages';
import type { Actions, PageServerLoad, RequestEvent } from './$types';
import { isSecure } from '$lib/server/http/secure';

/**
 * Issue 26: a plain GET (a reload, a return from the mail app) shows this browser's pending code
 * step again, from its own cookies: what it typed (sealed) and its registration token. It sends
 * nothing; a used, locked or expired code shows the first step, filled in with what was typed.
 */
export const load: PageServerLoad = async (event) => {
	const { locals } = event;
	if (locals.account) redirect(303, '/account');
	return {
		countries: countryCodes,
		ipCountry: locals.ipCountry,
		passwordMinLength: locals.app.config.passwordMinLength,
		...(await resumeOnGet(event, 'register', (typed) => resumable(event, typed)))
	};
};

/** This browser's live code step for what it typed, if there is one (never sends a code). */
async function resumable(event: RequestEvent, typed: { identifier: string; country: string }) {
	const pending = await pendingRegistration(
		event.locals.app,
		{ identifier: typed.identifier, country: typed.country || undefined },
		registrationToken(event.cookies)
	);
	if (!pending) return undefined;
	return codeStep(pending, typed, event.locals.app.clock.now());
}

function codeStep(
	sent: Pick<CodeSent, 'expiresAt' | 'resendAfter'>,
	typed: { identifier: string; country?: string | undefined },
	now: Date
) {
	return {
		step: 'code' as const,
		// Issue 26: what this browser typed, in full, so a typo can be seen (only ever to it); the
		// forms carry it back and every step parses it again with the country.
		identifier: typed.identifier.trim(),
		country: typed.country,
		timing: sentTiming(sent, now)
	};
}

/** A code was sent for what was typed: kept for this browser's next plain GET. */
function remember(event: RequestEvent, identifier: string, country: string | undefined) {
	rememberTyped(event, 'register', { identifier, country: country ?? '', pending: true });
}

export const actions: Actions = {
	start: async (event) => {
		const values = await readForm(event.request, [
			'identifier',
			'password',
			'country',
			'acceptMismatch'
		]);
		const echo = {
			step: 'details' as const,
			identifier: values.identifier ?? '',
			country: values.country ?? ''
		};
		if (!values.country) return failForm(failures.invalidCountry(), echo);
		const input = parseForm(registrationInput, {
			identifier: values.identifier ?? '',
			password: values.password ?? '',
			country: values.country ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const meta = requestMeta(event);
		// R9: warn before going on; JavaScript warns as the country changes, this is the no-JS path.
		if (ipCountryMismatch(meta.ipCountry, input.data.country) && values.acceptMismatch !== '1') {
			return { ...echo, mismatch: { ipCountry: meta.ipCountry } };
		}
		const starter = registrationStarter(event.cookies, isSecure(event));
		const sent = await startRegistration(event.locals.app, input.data, { ...meta, starter });
		if (!sent.ok) return failForm(sent, echo);
		remember(event, input.data.identifier, input.data.country);
		return codeStep(sent, input.data, event.locals.app.clock.now());
	},

	resend: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country', ...TIMING_FIELDS]);
		const input = parseForm(resendInput, {
			identifier: values.identifier,
			country: values.country
		});
		if (!input.ok) return failForm(input.failure, { step: 'details' as const });
		const sent = await resendRegistrationCode(event.locals.app, input.data, {
			...requestMeta(event),
			starter: registrationToken(event.cookies)
		});
		// R6/R8: nothing is pending from this browser (a stranger's "continue registration" from the
		// check report, or a code long gone): no code was sent, so the page must not say one was.
		// Back to the details step, the address kept, saying so.
		if (!sent.ok && sent.code === 'code_invalid')
			return failForm(
				{ ...sent, message: m.register_no_code_here() },
				{
					step: 'details' as const,
					identifier: values.identifier ?? '',
					country: values.country ?? ''
				}
			);
		if (!sent.ok) {
			// R6: an early resend answers with the wait, on the code step it came from.
			return failForm(sent, {
				step: 'code' as const,
				identifier: input.data.identifier,
				country: input.data.country,
				timing: echoedTiming(values, event.locals.app.clock.now())
			});
		}
		remember(event, input.data.identifier, input.data.country);
		return codeStep(sent, input.data, event.locals.app.clock.now());
	},

	/**
	 * Issue 26: the check report's "Register this address" and "Enter your code or get a new one",
	 * a POST so the address stays out of the URL: this browser's pending code step for it if it has
	 * one (never a new code), else the first step filled in with what was checked.
	 */
	resume: async (event) => {
		const { typed, step, continued } = await resumePosted(event, 'register', (t) =>
			resumable(event, t)
		);
		if (step) return step;
		return {
			step: 'details' as const,
			...typed,
			notice: continued ? m.register_no_code_here() : undefined
		};
	},

	/** Issue 26: "Wrong address? Change it": the first step, filled in; the code is left as it is. */
	change: async (event) => ({
		step: 'details' as const,
		...(await changeTyped(event, 'register'))
	}),

	confirm: async (event) => {
		const { values, echo } = await readCodeStep(event);
		const input = parseForm(registrationConfirmInput, {
			identifier: values.identifier,
			country: values.country,
			code: values.code ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const result = await confirmRegistration(event.locals.app, input.data, {
			...requestMeta(event),
			starter: registrationToken(event.cookies)
		});
		if (!result.ok) return failForm(result, echo);
		forgetRegistrationToken(event.cookies, isSecure(event));
		forgetTyped(event, 'register');
		// A new account's first session, at its epoch (0 unless a remedy already ran: then sign in).
		if (!(await startSession(event, result.account, result.account.session_epoch)))
			redirect(303, '/login');
		redirect(303, '/account?welcome=1');
	}
};
