import { json } from '@sveltejs/kit';
import { checkInput } from '$lib/schemas/check';
import { runCheck } from '$lib/server/check';
import { apiError, fieldErrors, readJsonObject } from '$lib/server/http/api-error';
import { m } from '$lib/paraglide/messages';
import type { RequestHandler } from './$types';

/** R14: the same report as the form action, for the enhanced page and native apps. */
export const POST: RequestHandler = async ({ request, locals }) => {
	const body = await readJsonObject(request);
	if (!body.ok) return body.response;
	const input = checkInput.safeParse(body.value);
	if (!input.success) {
		return apiError(400, 'invalid_request', m.error_invalid_request(), {
			fields: fieldErrors(input.error)
		});
	}
	const outcome = await runCheck(locals.app, input.data);
	if (!outcome.ok) {
		return apiError(400, outcome.code, outcome.message, { fields: { identifier: outcome.message } });
	}
	return json(outcome.report, { headers: { 'cache-control': 'no-store' } });
};
