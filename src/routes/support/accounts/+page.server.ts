import { redirect } from '@sveltejs/kit';
import { accountLookup } from '$lib/schemas/risk-review';
import { lookupAccount } from '$lib/server/support';
import { requireAgent } from '$lib/server/http/agent-guard';
import { failure } from '$lib/server/core/failures';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
	requireAgent(event, { page: true });
	return {};
};

export const actions: Actions = {
	/** R4: the identifier comes in a POST body and leaves as the account's id, never in a URL. */
	default: async (event) => {
		requireAgent(event);
		const values = await readForm(event.request, ['identifier']);
		const parsed = parseForm(accountLookup, values);
		if (!parsed.ok)
			return failForm(
				// R4: a malformed identifier is named as such, on its one field.
				failure(400, 'invalid_identifier', parsed.failure.message, { field: 'identifier' }),
				{ identifier: values.identifier ?? '' }
			);
		const result = await lookupAccount(event.locals.app, parsed.data.identifier);
		if (!result.ok) return failForm(result, { identifier: parsed.data.identifier });
		redirect(303, `/support/accounts/${result.accountId}`);
	}
};
