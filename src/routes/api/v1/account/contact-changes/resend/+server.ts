import { contactChangeResendInput } from '$lib/schemas/account';
import { resendContactChangeCode } from '$lib/server/contact-change';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import { codeSentResponse } from '$lib/server/http/code-sent';
import type { RequestHandler } from './$types';

/** R6/R16: a new code to the contact of the change already started (no password asked again). */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, contactChangeResendInput);
	if (!body.ok) return body.response;
	const result = await resendContactChangeCode(event.locals.app, account, requestMeta(event));
	return codeSentResponse(result);
};
