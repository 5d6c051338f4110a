import { json } from '@sveltejs/kit';
import { signInInput } from '$lib/schemas/registration';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { startSession } from '$lib/server/http/session-cookie';
import { requestMeta } from '$lib/server/core/request-meta';
import { signIn } from '$lib/server/accounts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, signInInput);
	if (!body.ok) return body.response;
	const result = await signIn(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	await startSession(event, result.account);
	return json({ account: { status: result.account.status } }, { status: 201 });
};
