import { fail } from '@sveltejs/kit';
import { checkInput, verificationConfirmInput } from '$lib/schemas/check';
import { m } from '$lib/paraglide/messages';
import { freezeByContactProof } from '$lib/server/accounts';
import { runCheck, requestVerificationCode } from '$lib/server/check';
import { countryCodes } from '$lib/server/core/countries';
import { failure } from '$lib/server/core/failures';
import { holdsCheckGrant, rememberCheckProof } from '$lib/server/http/check-grant-cookie';
import { checkViewer } from '$lib/server/http/check-viewer';
import { failForm, formError, parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/http/request-meta';
import type { Actions, PageServerLoad } from './$types';

// The country codes as one string: the page data is serialized on every request, and one string
// costs SvelteKit's serializer a fraction of an array of about 250 (docs/BENCHMARKS.md, `GET /`).
const countryList = countryCodes.join(' ');

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryList,
	ipCountry: locals.ipCountry,
	now: locals.app.clock.now().toISOString()
});

type Event = Parameters<Actions[string]>[0];

/**
 * The head of the check page's `check` and `verify` actions: the form through the schema and one
 * `runCheck` (R15: limited and counted). `answer` is the refusal to return as it stands.
 */
async function checkFromForm(event: Event) {
	const values = await readForm(event.request, ['identifier', 'country']);
	const echo = { identifier: values.identifier ?? '', country: values.country };
	const input = parseForm(checkInput, { ...values, identifier: values.identifier ?? '' });
	if (!input.ok) return { ok: false as const, answer: failForm(input.failure, echo) };
	const outcome = await runCheck(event.locals.app, input.data, checkViewer(event));
	if (!outcome.ok) return { ok: false as const, answer: failForm(outcome, echo) };
	return { ok: true as const, echo, input: input.data, report: outcome.report };
}

// R14: the check with JavaScript off; the identifier travels in POST bodies, never the URL.
export const actions: Actions = {
	check: async (event) => {
		const checked = await checkFromForm(event);
		if (!checked.ok) return checked.answer;
		return { ...checked.echo, report: checked.report };
	},

	/** R15a: "Verify it's you" sends a `check` code; the public report stays on screen. */
	verify: async (event) => {
		const checked = await checkFromForm(event);
		if (!checked.ok) return checked.answer;
		const { echo, report } = checked;
		const sent = await requestVerificationCode(
			event.locals.app,
			{ ...checked.input, purpose: 'check' },
			requestMeta(event)
		);
		if (!sent.ok)
			return fail(sent.status, {
				...echo,
				report,
				verifySent: false,
				verifyError: formError(sent)
			});
		return { ...echo, report, verifySent: true };
	},

	/** R15a: the code and the check in one `runCheck`, as `POST /api/v1/verifications/confirm`. */
	confirm: async (event) => {
		const { app } = event.locals;
		const values = await readForm(event.request, ['identifier', 'country', 'code']);
		const echo = { identifier: values.identifier ?? '', country: values.country };
		const input = parseForm(verificationConfirmInput, {
			...values,
			identifier: values.identifier ?? '',
			code: values.code ?? '',
			purpose: 'check'
		});
		if (!input.ok) return failForm(input.failure, echo);
		const { code, identifier, country } = input.data;
		const outcome = await runCheck(app, { identifier, country }, checkViewer(event), { code });
		if (!outcome.ok) {
			// A wrong code keeps the public report on screen; a refused check shows only its error.
			return outcome.report
				? fail(outcome.status, {
						...echo,
						report: outcome.report,
						verifySent: true,
						verifyError: formError(outcome)
					})
				: failForm(outcome, echo);
		}
		rememberCheckProof(event, outcome);
		return { ...echo, report: outcome.report };
	},

	/**
	 * Rules §7b: "Freeze this account", offered once a check code proved control of a bound
	 * contact in this browser (R15a's grant); the verified report is shown again after it.
	 */
	freeze: async (event) => {
		const { app } = event.locals;
		const values = await readForm(event.request, ['identifier', 'country', 'confirm']);
		const echo = { identifier: values.identifier ?? '', country: values.country };
		const input = parseForm(checkInput, echo);
		if (!input.ok) return failForm(input.failure, echo);
		const frozen =
			values.confirm === 'yes'
				? await freezeByContactProof(
						app,
						input.data,
						(identifier) => holdsCheckGrant(event, identifier.value),
						requestMeta(event)
					)
				: failure(400, 'confirm_required', m.error_freeze_confirm());
		const outcome = await runCheck(app, input.data, checkViewer(event));
		const report = outcome.ok ? outcome.report : undefined;
		if (!frozen.ok) return fail(frozen.status, { ...echo, report, freezeError: formError(frozen) });
		return { ...echo, report, frozen: true as const };
	}
};
