import { passwordChangeInput } from '$lib/schemas/account';
import { changePassword } from '$lib/server/accounts';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';

/** R5: current + new password → 204; every other session signed out, the owner told. */
export const POST: RequestHandler = async (event) => {
	const { account, session } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, passwordChangeInput);
	if (!body.ok) return body.response;
	const result = await changePassword(event.locals.app, account, body.data, {
		...requestMeta(event),
		sessionId: session?.id ?? null
	});
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
