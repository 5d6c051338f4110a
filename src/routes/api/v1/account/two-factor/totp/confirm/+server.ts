import { json } from '@sveltejs/kit';
import { secondFactorCodeInput } from '$lib/schemas/two-step';
import { failureResponse } from '$lib/server/http/api-error';
import { ownerBody } from '$lib/server/http/owner-request';
import { requestMeta } from '$lib/server/http/request-meta';
import { confirmTotpSetup } from '$lib/server/two-step';
import type { RequestHandler } from './$types';
import type { RecoveryCodes } from '$lib/schemas/responses';

/** Set-up step 2: a code from the app → two-step on, and ten recovery codes shown this once. */
export const POST: RequestHandler = async (event) => {
	const body = await ownerBody(event, secondFactorCodeInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await confirmTotpSetup(event.locals.app, account, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({ recoveryCodes: result.recoveryCodes } satisfies RecoveryCodes, {
		status: 201,
		headers: { 'cache-control': 'no-store' }
	});
};
