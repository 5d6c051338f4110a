import { json } from '@sveltejs/kit';
import { recoveryCancelOwnerInput } from '$lib/schemas/recovery';
import { cancelRecoveryByOwner } from '$lib/server/appeals';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { RecoveryCancelledByOwner } from '$lib/schemas/responses';

/** Rules §8a: the signed-in owner stops every pending recovery of the account, with the password. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, recoveryCancelOwnerInput);
	if (!body.ok) return body.response;
	const result = await cancelRecoveryByOwner(
		event.locals.app,
		account,
		body.data,
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	return json({
		status: 'cancelled',
		cancelled: result.cancelled
	} satisfies RecoveryCancelledByOwner);
};
