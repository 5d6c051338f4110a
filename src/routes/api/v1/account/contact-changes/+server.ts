import { contactChangeInput } from '$lib/schemas/account';
import { startContactChange } from '$lib/server/contact-change';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import { codeSentResponse } from '$lib/server/http/code-sent';
import type { RequestHandler } from './$types';

/** R16 step 1: current password + new contact → a code to the new contact. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, contactChangeInput);
	if (!body.ok) return body.response;
	const result = await startContactChange(event.locals.app, account, body.data, requestMeta(event));
	return codeSentResponse(result);
};
