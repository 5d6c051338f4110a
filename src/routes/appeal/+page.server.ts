import { appealInput } from '$lib/schemas/appeal';
import { appealSubmissionAllowed, submitAppeal } from '$lib/server/appeals';
import { requestVerificationCode } from '$lib/server/check';
import { countryCodes } from '$lib/server/core/countries';
import { failures } from '$lib/server/core/failures';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { addressKey } from '$lib/server/platform/address-key';
import { readMultipart } from '$lib/server/http/multipart';
import { requestMeta } from '$lib/server/http/request-meta';
import { setAppealAccess } from './access-cookie';
import type { Actions, PageServerLoad } from './$types';
import { isSecure } from '$lib/server/http/secure';

export const load: PageServerLoad = ({ locals }) => ({
	countries: countryCodes,
	ipCountry: locals.ipCountry,
	// What the form tells before anyone starts: how long documents are kept (R19), the hold (R24).
	retentionDays: locals.app.config.appeals.retentionDays,
	holdHours: locals.app.config.appeals.recoveryHoldMs / 3_600_000
});

const TEXT_FIELDS = [
	'identifier',
	'newIdentifier',
	'newIdentifierCode',
	'description',
	'country'
] as const;
// Refills the form after an error (never the code).
const echoOf = (values: Record<string, string | undefined>) => ({
	identifier: values.identifier ?? '',
	newIdentifier: values.newIdentifier ?? '',
	description: values.description ?? '',
	country: values.country ?? ''
});

/** What was checked, as the appeal form's own "lost" fields take it (R14). */
const checkedInput = appealInput.pick({ identifier: true, country: true });

export const actions: Actions = {
	/**
	 * R14/R19: the check report's "Appeal", a POST so what was checked stays out of the URL. It
	 * only fills the lost email or phone (what the person typed, parsed as the appeal form would);
	 * nothing is kept or sent.
	 */
	fromCheck: async (event) => {
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = echoOf({ identifier: values.identifier?.slice(0, 320) });
		const input = parseForm(checkedInput, values);
		if (!input.ok) return failForm(input.failure, echo);
		return echoOf(input.data);
	},
	/** R19/R6: a code to the new contact, the first thing the person proves. */
	sendCode: async (event) => {
		const values = await readForm(event.request, [...TEXT_FIELDS]);
		const echo = echoOf(values);
		if (!values.newIdentifier)
			return failForm({ ...failures.invalidIdentifier('empty', 'newIdentifier') }, echo);
		const result = await requestVerificationCode(
			event.locals.app,
			{ identifier: values.newIdentifier, purpose: 'appeal', country: values.country },
			requestMeta(event)
		);
		if (!result.ok)
			return failForm(
				{
					...result,
					field: result.field === 'identifier' ? 'newIdentifier' : (result.field ?? 'newIdentifier')
				},
				echo
			);
		return { ...echo, codeSent: true, expiresAt: result.expiresAt.toISOString() };
	},
	submit: async (event) => {
		const refused = await appealSubmissionAllowed(event.locals.app, requestMeta(event));
		if (refused) return failForm(refused, { ...echoOf({}), codeSent: true });
		const body = await readMultipart(event.locals.app, event.request, appealInput, 'documents', {
			network: addressKey(event.locals.app.keys, event.locals.clientAddress)
		});
		const echo = echoOf(body.values);
		if (!body.ok) return failForm(body, { ...echo, codeSent: true });
		const result = await submitAppeal(event.locals.app, body.data, body.files, requestMeta(event));
		if (!result.ok) return failForm(result, { ...echo, codeSent: true });
		setAppealAccess(event.cookies, result.reference, result.statusToken, isSecure(event));
		return {
			submitted: {
				reference: result.reference,
				statusToken: result.statusToken,
				dueAt: result.dueAt.toISOString()
			}
		};
	}
};
