import { json } from '@sveltejs/kit';
import { verificationInput } from '$lib/schemas/check';
import { requestVerificationCode } from '$lib/server/check';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { CodeSent } from '$lib/schemas/responses';

/** API (docs/api.md): a `check` or `appeal` code to the identifier; the same answer for any identifier. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, verificationInput);
	if (!body.ok) return body.response;
	const result = await requestVerificationCode(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json(
		{
			expiresAt: result.expiresAt.toISOString(),
			resendAfter: result.resendAfter.toISOString()
		} satisfies CodeSent,
		{ status: 202 }
	);
};
