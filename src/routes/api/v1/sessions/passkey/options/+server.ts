import { json } from '@sveltejs/kit';
import { failureResponse } from '$lib/server/http/api-error';
import { pendingSignInToken } from '$lib/server/http/pending-sign-in-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { passkeySignInOptions } from '$lib/server/two-step';
import { keepPasskeyChallenge } from '../challenge-cookie';
import type { RequestHandler } from './$types';

/**
 * WebAuthn request options: for the pending sign-in's account, or any discoverable passkey (then
 * the challenge goes back sealed in a cookie, not into a table). Limited per network (429).
 */
export const POST: RequestHandler = async (event) => {
	const result = await passkeySignInOptions(
		event.locals.app,
		{ pendingToken: pendingSignInToken(event.cookies) },
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	if (result.browserChallenge) keepPasskeyChallenge(event, result.browserChallenge);
	return json(result.options, { headers: { 'cache-control': 'no-store' } });
};
