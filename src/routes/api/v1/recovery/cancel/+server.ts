import { json } from '@sveltejs/kit';
import { recoveryCancelLinkInput } from '$lib/schemas/recovery';
import { cancelRecoveryByLink } from '$lib/server/appeals';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { RecoveryCancelledByLink } from '$lib/schemas/responses';

/** Rules §8a: a cancel link's token → the appeal it was sent about is stopped; nothing is named. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, recoveryCancelLinkInput);
	if (!body.ok) return body.response;
	const result = await cancelRecoveryByLink(event.locals.app, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({ status: 'cancelled' } satisfies RecoveryCancelledByLink, {
		headers: { 'cache-control': 'no-store' }
	});
};
