import { firstOrderInput } from '$lib/schemas/registration';
import { recordFirstOrder } from '$lib/server/accounts';
import { apiError, failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { bearerMatches } from '$lib/server/http/bearer';
import type { RequestHandler } from './$types';

/** R11: the order system reports an account's first paid order. */
export const POST: RequestHandler = async ({ request, locals }) => {
	const { internalApiToken } = locals.app.config;
	if (!internalApiToken || !bearerMatches(request.headers.get('authorization'), internalApiToken)) {
		return apiError(401, 'unauthenticated', 'A valid internal API token is required.', {
			headers: { 'www-authenticate': 'Bearer' }
		});
	}
	const body = await parseJsonBody(request, firstOrderInput);
	if (!body.ok) return body.response;
	const result = await recordFirstOrder(locals.app, body.data.identifier);
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
