import { json } from '@sveltejs/kit';
import { failureResponse } from '$lib/server/http/api-error';
import { pendingSignInToken } from '$lib/server/http/pending-sign-in-cookie';
import { passkeySignInOptions } from '$lib/server/two-step';
import type { RequestHandler } from './$types';

/** WebAuthn request options: for the pending sign-in's account, or any discoverable passkey. */
export const POST: RequestHandler = async (event) => {
	const result = await passkeySignInOptions(event.locals.app, {
		pendingToken: pendingSignInToken(event.cookies)
	});
	if (!result.ok) return failureResponse(result);
	return json(result.options, { headers: { 'cache-control': 'no-store' } });
};
