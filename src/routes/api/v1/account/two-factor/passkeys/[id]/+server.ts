import { json } from '@sveltejs/kit';
import { passkeyRemoveInput, passkeyRenameInput } from '$lib/schemas/two-step';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/core/request-meta';
import { removePasskey, renamePasskey } from '$lib/server/two-step';
import type { RequestHandler } from './$types';

export const PATCH: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, passkeyRenameInput);
	if (!body.ok) return body.response;
	const result = await renamePasskey(event.locals.app, account, {
		id: event.params.id,
		name: body.data.name
	});
	if (!result.ok) return failureResponse(result);
	return json({ passkey: { id: event.params.id, name: body.data.name } });
};

/** Removing a passkey takes the password again. */
export const DELETE: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, passkeyRemoveInput);
	if (!body.ok) return body.response;
	const result = await removePasskey(
		event.locals.app,
		account,
		{ id: event.params.id, currentPassword: body.data.currentPassword },
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
