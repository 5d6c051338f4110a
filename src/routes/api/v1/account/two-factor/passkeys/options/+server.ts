import { json } from '@sveltejs/kit';
import { passkeyOptionsInput } from '$lib/schemas/two-step';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { passkeyRegistrationOptions } from '$lib/server/two-step';
import type { RequestHandler } from './$types';

/** Registration step 1: the password again → WebAuthn creation options. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, passkeyOptionsInput);
	if (!body.ok) return body.response;
	const result = await passkeyRegistrationOptions(event.locals.app, account, body.data);
	if (!result.ok) return failureResponse(result);
	return json(result.options, { headers: { 'cache-control': 'no-store' } });
};
