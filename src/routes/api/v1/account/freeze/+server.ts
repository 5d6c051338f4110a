import { json } from '@sveltejs/kit';
import { accountFreezeInput } from '$lib/schemas/freeze';
import { freezeOwnAccount } from '$lib/server/accounts';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { endSession } from '$lib/server/http/session-cookie';
import type { RequestHandler } from './$types';
import type { Frozen } from '$lib/schemas/responses';

/** §7b: the signed-in owner freezes the account (current password) → 200 {"status":"frozen"}. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, accountFreezeInput);
	if (!body.ok) return body.response;
	const result = await freezeOwnAccount(
		event.locals.app,
		account,
		body.data.currentPassword,
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	// Every session ended with the freeze, this one too: the cookie goes as well.
	await endSession(event);
	return json({ status: 'frozen' } satisfies Frozen, { headers: { 'cache-control': 'no-store' } });
};
