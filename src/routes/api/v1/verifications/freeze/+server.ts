import { json } from '@sveltejs/kit';
import { verificationFreezeInput } from '$lib/schemas/freeze';
import { freezeByContactProof } from '$lib/server/accounts';
import { holdsCheckGrant } from '$lib/server/http/check-grant-cookie';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { Frozen } from '$lib/schemas/responses';

/**
 * §7b: whoever proved control of a bound contact with a check code in this browser (R15a's grant
 * cookie from `POST /api/v1/verifications/confirm`) freezes its account → 200 {"status":"frozen"}.
 */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, verificationFreezeInput);
	if (!body.ok) return body.response;
	const { app } = event.locals;
	const result = await freezeByContactProof(
		app,
		body.data,
		(identifier) => holdsCheckGrant(event, identifier.value),
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	return json({ status: 'frozen' } satisfies Frozen, { headers: { 'cache-control': 'no-store' } });
};
