import { passkeySignInInput } from '$lib/schemas/two-step';
import { parseJsonBody } from '$lib/server/http/api-error';
import { pendingSignInToken, secondStepAnswer } from '$lib/server/http/pending-sign-in-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { verifyPasskeySignIn } from '$lib/server/two-step';
import { takePasskeyChallenge } from './challenge-cookie';
import type { RequestHandler } from './$types';

/** A passkey assertion → 201 and the session (second factor, or first with user verification). */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, passkeySignInInput);
	if (!body.ok) return body.response;
	const result = await verifyPasskeySignIn(
		event.locals.app,
		{
			response: body.data.response,
			pendingToken: pendingSignInToken(event.cookies),
			browserChallenge: takePasskeyChallenge(event)
		},
		requestMeta(event)
	);
	return secondStepAnswer(event, result);
};
