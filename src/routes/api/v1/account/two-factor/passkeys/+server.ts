import { json } from '@sveltejs/kit';
import { passkeyRegisterInput } from '$lib/schemas/two-step';
import { failures } from '$lib/server/core/failures';
import { failureResponse } from '$lib/server/http/api-error';
import { ownerBody } from '$lib/server/http/owner-request';
import { requestMeta } from '$lib/server/http/request-meta';
import { listPasskeys, registerPasskey } from '$lib/server/two-step';
import type { RequestHandler } from './$types';
import type { PasskeyAdded, PasskeyList } from '$lib/schemas/responses';

export const GET: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	return json(
		{ passkeys: await listPasskeys(event.locals.app, account.id) } satisfies PasskeyList,
		{ headers: { 'cache-control': 'no-store' } }
	);
};

/** Registration step 2: the browser's attestation, verified against the stored challenge. */
export const POST: RequestHandler = async (event) => {
	const body = await ownerBody(event, passkeyRegisterInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await registerPasskey(event.locals.app, account, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json({ passkey: result.passkey } satisfies PasskeyAdded, { status: 201 });
};
