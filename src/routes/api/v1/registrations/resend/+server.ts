import { resendInput } from '$lib/schemas/registration';
import { parseJsonBody } from '$lib/server/http/api-error';
import { registrationToken } from '$lib/server/http/registration-cookie';
import { resendRegistrationCode } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { codeSentResponse } from '$lib/server/http/code-sent';
import type { RequestHandler } from './$types';

/** R6: a new registration code after the 60-second cooldown; it replaces the old one. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, resendInput);
	if (!body.ok) return body.response;
	const result = await resendRegistrationCode(event.locals.app, body.data, {
		...requestMeta(event),
		starter: registrationToken(event.cookies)
	});
	return codeSentResponse(result);
};
