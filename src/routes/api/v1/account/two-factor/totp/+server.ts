import { json } from '@sveltejs/kit';
import { totpDisableInput, totpStartInput } from '$lib/schemas/two-step';
import { failureResponse } from '$lib/server/http/api-error';
import { ownerBody } from '$lib/server/http/owner-request';
import { requestMeta } from '$lib/server/http/request-meta';
import { disableTotp, startTotpSetup } from '$lib/server/two-step';
import type { RequestHandler } from './$types';
import type { TotpStarted } from '$lib/schemas/responses';

/** Set-up step 1: the password again → a new secret (shown once; confirmed by a code). */
export const POST: RequestHandler = async (event) => {
	const body = await ownerBody(event, totpStartInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await startTotpSetup(event.locals.app, account, body.data);
	if (!result.ok) return failureResponse(result);
	return json({ secret: result.secret, otpauthUri: result.otpauthUri } satisfies TotpStarted, {
		headers: { 'cache-control': 'no-store' }
	});
};

/** Off: the password and a code (TOTP or recovery) → 204; recovery codes go too. */
export const DELETE: RequestHandler = async (event) => {
	const body = await ownerBody(event, totpDisableInput);
	if (!body.ok) return body.response;
	const { account } = body;
	const result = await disableTotp(event.locals.app, account, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
