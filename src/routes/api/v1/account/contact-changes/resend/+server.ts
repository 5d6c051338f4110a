import { json } from '@sveltejs/kit';
import { contactChangeResendInput } from '$lib/schemas/account';
import { resendContactChangeCode } from '$lib/server/contact-change';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { CodeSent } from '$lib/schemas/responses';

/** R6/R16: a new code to the contact of the change already started (no password asked again). */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, contactChangeResendInput);
	if (!body.ok) return body.response;
	const result = await resendContactChangeCode(event.locals.app, account, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json(
		{
			expiresAt: result.expiresAt.toISOString(),
			resendAfter: result.resendAfter.toISOString()
		} satisfies CodeSent,
		{ status: 202 }
	);
};
