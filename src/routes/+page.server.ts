import { fail } from '@sveltejs/kit';
import { checkInput, verificationConfirmInput } from '$lib/schemas/check';
import { m } from '$lib/paraglide/messages';
import { freezeByContactProof } from '$lib/server/accounts';
import {
	checkGrantCovers,
	runCheck,
	setCheckGrant,
	requestVerificationCode
} from '$lib/server/check';
import { countryCodes } from '$lib/server/core/countries';
import type { Failure } from '$lib/server/core/failures';
import { checkViewer } from '$lib/server/http/check-viewer';
import { parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/core/request-meta';
import type { ApiError } from '$lib/types/check-report';
import type { Actions, PageServerLoad } from './$types';

// The country codes as one string: the page data is serialized on every request, and one string
// costs SvelteKit's serializer a fraction of an array of about 250 (docs/BENCHMARKS.md, `GET /`).
const countryList = countryCodes.join(' ');

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryList,
	ipCountry: locals.ipCountry,
	now: locals.app.clock.now().toISOString()
});

const asError = (f: Failure) => ({
	code: f.code,
	message: f.message,
	retryAfterSeconds: f.retryAfterSeconds,
	// R15: which of the check's limits refused it (the JSON API's `error.limit`).
	limit: f.extra?.limit as ApiError['limit']
});

// R14: the check with JavaScript off; the identifier travels in POST bodies, never the URL.
export const actions: Actions = {
	check: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = { identifier: values.identifier ?? '', country: values.country };
		const input = parseForm(checkInput, { ...values, identifier: values.identifier ?? '' });
		if (!input.ok) return fail(400, { ...echo, error: input.error });
		const outcome = await runCheck(event.locals.app, input.data, checkViewer(event));
		if (!outcome.ok) return fail(outcome.status, { ...echo, error: asError(outcome) });
		return { ...echo, report: outcome.report };
	},

	/** R15a: "Verify it's you" sends a `check` code; the public report stays on screen. */
	verify: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = { identifier: values.identifier ?? '', country: values.country };
		const input = parseForm(checkInput, { ...values, identifier: values.identifier ?? '' });
		if (!input.ok) return fail(400, { ...echo, error: input.error });
		const outcome = await runCheck(event.locals.app, input.data, checkViewer(event));
		if (!outcome.ok) return fail(outcome.status, { ...echo, error: asError(outcome) });
		const sent = await requestVerificationCode(
			event.locals.app,
			{ ...input.data, purpose: 'check' },
			requestMeta(event)
		);
		if (!sent.ok)
			return fail(sent.status, {
				...echo,
				report: outcome.report,
				verifySent: false,
				verifyError: asError(sent)
			});
		return { ...echo, report: outcome.report, verifySent: true };
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
		if (!input.ok) return fail(400, { ...echo, error: input.error });
		const { code, identifier, country } = input.data;
		const outcome = await runCheck(app, { identifier, country }, checkViewer(event), { code });
		if (!outcome.ok) {
			// A wrong code keeps the public report on screen; a refused check shows only its error.
			return outcome.report
				? fail(outcome.status, {
						...echo,
						report: outcome.report,
						verifySent: true,
						verifyError: asError(outcome)
					})
				: fail(outcome.status, { ...echo, error: asError(outcome) });
		}
		if (outcome.proven)
			setCheckGrant(
				app,
				event.cookies,
				outcome.proven.value,
				event.locals.deviceId,
				event.url.protocol === 'https:'
			);
		return { ...echo, report: outcome.report };
	},

	/**
	 * Rules §7b: "Freeze this account", offered once a check code proved control of a bound
	 * contact in this browser (R15a's grant); the verified report is shown again after it.
	 */
	freeze: async (event) => {
		const { app, deviceId } = event.locals;
		const values = await readForm(event.request, ['identifier', 'country', 'confirm']);
		const echo = { identifier: values.identifier ?? '', country: values.country };
		const input = parseForm(checkInput, echo);
		if (!input.ok) return fail(400, { ...echo, error: input.error });
		const frozen =
			values.confirm === 'yes'
				? await freezeByContactProof(
						app,
						input.data,
						(identifier) => checkGrantCovers(app, event.cookies, identifier.value, deviceId),
						requestMeta(event)
					)
				: ({
						ok: false,
						status: 400,
						code: 'confirm_required',
						message: m.error_freeze_confirm()
					} satisfies Failure);
		const outcome = await runCheck(app, input.data, checkViewer(event));
		const report = outcome.ok ? outcome.report : undefined;
		if (!frozen.ok) return fail(frozen.status, { ...echo, report, freezeError: asError(frozen) });
		return { ...echo, report, frozen: true as const };
	}
};
