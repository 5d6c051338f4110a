import { json } from '@sveltejs/kit';
import { passwordResetInput } from '$lib/schemas/account';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestPasswordReset } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';

/** R18 step 1: the same 202 for every identifier. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, passwordResetInput);
	if (!body.ok) return body.response;
	const result = await requestPasswordReset(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({}, { status: 202 });
};
