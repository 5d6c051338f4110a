import { json } from '@sveltejs/kit';
import { deletionCancelLinkInput } from '$lib/schemas/account';
import { cancelDeletionByLink } from '$lib/server/data-rights';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { DeletionCancelled } from '$lib/schemas/responses';

/** R28: a deletion notice's keep-my-account link token → the deletion is cancelled; nothing named. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, deletionCancelLinkInput);
	if (!body.ok) return body.response;
	const result = await cancelDeletionByLink(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({ status: 'kept' } satisfies DeletionCancelled, {
		headers: { 'cache-control': 'no-store' }
	});
};
