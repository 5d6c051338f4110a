import { json } from '@sveltejs/kit';
import { accountDeletionInput } from '$lib/schemas/account';
import { cancelDeletionByOwner, requestDeletion } from '$lib/server/data-rights';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { endSession } from '$lib/server/http/session-cookie';
import type { RequestHandler } from './$types';
import type { DeletionCancelled, DeletionScheduled } from '$lib/schemas/responses';

const noStore = { 'cache-control': 'no-store' };

/** R28: the owner asks for the deletion (password again) → 202, every session ended, this one too. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, accountDeletionInput);
	if (!body.ok) return body.response;
	const result = await requestDeletion(event.locals.app, account, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	await endSession(event);
	const answer: DeletionScheduled = {
		status: 'scheduled',
		effectiveAt: result.effectiveAt.toISOString()
	};
	return json(answer, { status: 202, headers: noStore });
};

/** R28: the owner, signed in again during the 14 days, keeps the account. */
export const DELETE: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const result = await cancelDeletionByOwner(event.locals.app, account, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({ status: 'kept' } satisfies DeletionCancelled, { headers: noStore });
};
