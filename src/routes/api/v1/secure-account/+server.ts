import { json } from '@sveltejs/kit';
import { secureAccountInput } from '$lib/schemas/account';
import { secureAccount } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { endSession } from '$lib/server/http/session-cookie';
import type { RequestHandler } from './$types';
import type { Secured } from '$lib/schemas/responses';

/** "This wasn't me": the alert's token → every session signed out, a reset code to the contact. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, secureAccountInput);
	if (!body.ok) return body.response;
	const result = await secureAccount(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	// This browser's session, if it was the account's, is gone with the others: drop its cookie.
	if (event.locals.account?.id === result.accountId) await endSession(event);
	return json({ contact: result.masked, resetCodeSent: result.codeSent } satisfies Secured);
};
