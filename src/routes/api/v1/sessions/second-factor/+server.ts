import { secondFactorCodeInput } from '$lib/schemas/two-step';
import { parseJsonBody } from '$lib/server/http/api-error';
import { pendingSignInToken, secondStepAnswer } from '$lib/server/http/pending-sign-in-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { verifySecondFactor } from '$lib/server/two-step';
import type { RequestHandler } from './$types';

/** Step 2 of a two-step sign-in: a TOTP or recovery code → 201 and the session. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, secondFactorCodeInput);
	if (!body.ok) return body.response;
	const result = await verifySecondFactor(
		event.locals.app,
		{ token: pendingSignInToken(event.cookies), code: body.data.code },
		requestMeta(event)
	);
	return secondStepAnswer(event, result);
};
