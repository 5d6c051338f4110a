import { json } from '@sveltejs/kit';
import { passkeyOptionsInput } from '$lib/schemas/two-step';
import { failureResponse } from '$lib/server/http/api-error';
import { ownerBody } from '$lib/server/http/owner-request';
import { passkeyRegistrationOptions } from '$lib/server/two-step';
import type { RequestHandler } from './$types';

/** Registration step 1: the password again → WebAuthn creation options. */
export const POST: RequestHandler = async (event) => {
	const body = await ownerBody(event, passkeyOptionsInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await passkeyRegistrationOptions(event.locals.app, account, body.data);
	if (!result.ok) return failureResponse(result);
	return json(result.options, { headers: { 'cache-control': 'no-store' } });
};
