import { redirect } from '@sveltejs/kit';
import {
	registrationConfirmInput,
	registrationInput,
	resendInput
} from '$lib/schemas/registration';
import { countryCodes } from '$lib/server/core/countries';
import { maskIdentifier, parseIdentifier } from '$lib/server/core/identifiers';
import { failures } from '$lib/server/core/failures';
import { echoedTiming, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
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
	resendRegistrationCode,
	startRegistration,
	type CodeSent
} from '$lib/server/accounts';
import { requestMeta } from '$lib/server/core/request-meta';
import { m } from '$lib/paraglide/messages';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (locals.account) redirect(303, '/account');
	return {
		countries: countryCodes,
		ipCountry: locals.ipCountry,
		passwordMinLength: locals.app.config.passwordMinLength
	};
};

function codeStep(sent: CodeSent, country: string | undefined, now: Date) {
	return {
		step: 'code' as const,
		identifier: sent.identifier.value,
		country,
		masked: sent.masked,
		timing: sentTiming(sent, now)
	};
}

/** What the person typed, masked as the code step shows it after a failed confirm or resend. */
function maskedTyped(values: Record<string, string | undefined>): string | undefined {
	const parsed = parseIdentifier(values.identifier ?? '', values.country);
	return parsed.ok ? maskIdentifier(parsed.identifier) : undefined;
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
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const meta = requestMeta(event);
		// R9: warn before going on; JavaScript warns as the country changes, this is the no-JS path.
		if (ipCountryMismatch(meta.ipCountry, input.data.country) && values.acceptMismatch !== '1') {
			return { ...echo, mismatch: { ipCountry: meta.ipCountry } };
		}
		const starter = registrationStarter(event.cookies, event.url.protocol === 'https:');
		const sent = await startRegistration(event.locals.app, input.data, { ...meta, starter });
		if (!sent.ok) return failForm(sent, echo);
		return codeStep(sent, input.data.country, event.locals.app.clock.now());
	},

	resend: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country', ...TIMING_FIELDS]);
		const input = parseForm(resendInput, {
			identifier: values.identifier,
			country: values.country
		});
		if (!input.ok)
			return failForm({ ok: false, status: 400, ...input.error }, { step: 'details' as const });
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
				masked: maskedTyped(values),
				timing: echoedTiming(values, event.locals.app.clock.now())
			});
		}
		return codeStep(sent, input.data.country, event.locals.app.clock.now());
	},

	confirm: async (event) => {
		const values = await readForm(event.request, [
			'identifier',
			'country',
			'code',
			...TIMING_FIELDS
		]);
		const echo = {
			step: 'code' as const,
			identifier: values.identifier ?? '',
			country: values.country,
			masked: maskedTyped(values),
			timing: echoedTiming(values, event.locals.app.clock.now())
		};
		const input = parseForm(registrationConfirmInput, {
			identifier: values.identifier,
			country: values.country,
			code: values.code ?? ''
		});
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await confirmRegistration(event.locals.app, input.data, {
			...requestMeta(event),
			starter: registrationToken(event.cookies)
		});
		if (!result.ok) return failForm(result, echo);
		forgetRegistrationToken(event.cookies, event.url.protocol === 'https:');
		// A new account's first session, at its epoch (0 unless a remedy already ran: then sign in).
		if (!(await startSession(event, result.account, result.account.session_epoch)))
			redirect(303, '/login');
		redirect(303, '/account?welcome=1');
	}
};
