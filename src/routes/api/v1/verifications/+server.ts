import { verificationInput } from '$lib/schemas/check';
import { requestVerificationCode } from '$lib/server/check';
import { parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import { codeSentResponse } from '$lib/server/http/code-sent';
import type { RequestHandler } from './$types';

/** API (docs/api.md): a `check` or `appeal` code to the identifier; the same answer for any identifier. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, verificationInput);
	if (!body.ok) return body.response;
	const result = await requestVerificationCode(event.locals.app, body.data, requestMeta(event));
	return codeSentResponse(result);
};
