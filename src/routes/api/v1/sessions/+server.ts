import { json } from '@sveltejs/kit';
import { signInInput } from '$lib/schemas/registration';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { afterPassword } from '$lib/server/http/pending-sign-in-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { signIn } from '$lib/server/accounts';
import type { RequestHandler } from './$types';
import type { SecondFactorDue, SignedIn } from '$lib/schemas/responses';

/**
 * 201 and the session; with two-step on, 202 and a pending cookie instead. A wrong password is
 * refused before two-step is looked at, so its answer never tells whether two-step is on.
 */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, signInInput);
	if (!body.ok) return body.response;
	const result = await signIn(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	const next = await afterPassword(event, result.account);
	if ('ok' in next) return failureResponse(next);
	if (!next.session)
		return json({ secondFactor: { methods: next.methods } } satisfies SecondFactorDue, {
			status: 202
		});
	return json({ account: { status: result.account.status } } satisfies SignedIn, { status: 201 });
};
