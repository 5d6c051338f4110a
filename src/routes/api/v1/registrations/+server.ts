import { registrationInput } from '$lib/schemas/registration';
import { parseJsonBody } from '$lib/server/http/api-error';
import { registrationStarter } from '$lib/server/http/registration-cookie';
import { startRegistration } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { codeSentResponse } from '$lib/server/http/code-sent';
import type { RequestHandler } from './$types';
import { isSecure } from '$lib/server/http/secure';

/** API (docs/api.md): step 1 of registration (R8): a code goes to the identifier. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, registrationInput);
	if (!body.ok) return body.response;
	const starter = registrationStarter(event.cookies, isSecure(event));
	const result = await startRegistration(event.locals.app, body.data, {
		...requestMeta(event),
		starter
	});
	return codeSentResponse(result);
};
