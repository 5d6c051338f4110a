import { passwordResetConfirmInput } from '$lib/schemas/account';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { confirmPasswordReset } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/core/request-meta';
import type { RequestHandler } from './$types';

/** R18 step 2: 204; every session of the account revoked. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, passwordResetConfirmInput);
	if (!body.ok) return body.response;
	const result = await confirmPasswordReset(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
