import { json } from '@sveltejs/kit';
import { registrationConfirmInput } from '$lib/schemas/registration';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { failures } from '$lib/server/core/failures';
import { forgetRegistrationToken, registrationToken } from '$lib/server/http/registration-cookie';
import { startSession } from '$lib/server/http/session-cookie';
import { confirmRegistration } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { SignedIn } from '$lib/schemas/responses';
import { isSecure } from '$lib/server/http/secure';

/** API (docs/api.md): step 2 creates the account and signs it in. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, registrationConfirmInput);
	if (!body.ok) return body.response;
	const result = await confirmRegistration(event.locals.app, body.data, {
		...requestMeta(event),
		starter: registrationToken(event.cookies)
	});
	if (!result.ok) return failureResponse(result);
	forgetRegistrationToken(event.cookies, isSecure(event));
	// A new account's first session, at its epoch (0 unless a remedy already ran: then sign in).
	if (!(await startSession(event, result.account, result.account.session_epoch)))
		return failureResponse(failures.unauthenticated());
	return json({ account: { status: result.account.status } } satisfies SignedIn, { status: 201 });
};
