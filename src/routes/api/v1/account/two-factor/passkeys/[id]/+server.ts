import { json } from '@sveltejs/kit';
import { passkeyRemoveInput, passkeyRenameInput } from '$lib/schemas/two-step';
import { failureResponse } from '$lib/server/http/api-error';
import { ownerBody } from '$lib/server/http/owner-request';
import { requestMeta } from '$lib/server/http/request-meta';
import { removePasskey, renamePasskey } from '$lib/server/two-step';
import type { RequestHandler } from './$types';
import type { PasskeyRenamed } from '$lib/schemas/responses';

export const PATCH: RequestHandler = async (event) => {
	const body = await ownerBody(event, passkeyRenameInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await renamePasskey(event.locals.app, account, {
		id: event.params.id,
		name: body.data.name
	});
	if (!result.ok) return failureResponse(result);
	return json({ passkey: { id: event.params.id, name: body.data.name } } satisfies PasskeyRenamed);
};

/** Removing a passkey takes the password again. */
export const DELETE: RequestHandler = async (event) => {
	const body = await ownerBody(event, passkeyRemoveInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await removePasskey(
		event.locals.app,
		account,
		{ id: event.params.id, currentPassword: body.data.currentPassword },
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
