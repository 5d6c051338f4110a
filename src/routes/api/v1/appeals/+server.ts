import { json } from '@sveltejs/kit';
import { appealInput } from '$lib/schemas/appeal';
import { appealSubmissionAllowed, submitAppeal } from '$lib/server/appeals';
import { failureResponse } from '$lib/server/http/api-error';
import { addressKey } from '$lib/server/platform/address-key';
import { readMultipart } from '$lib/server/http/multipart';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { AppealFiled } from '$lib/schemas/responses';

/** docs/api.md, R19: multipart appeal → 201 {reference, statusToken, dueAt}. */
export const POST: RequestHandler = async (event) => {
	const refused = await appealSubmissionAllowed(event.locals.app, requestMeta(event));
	if (refused) return failureResponse(refused);
	const body = await readMultipart(event.locals.app, event.request, appealInput, 'documents', {
		requireMultipart: true,
		network: addressKey(event.locals.app.keys, event.locals.clientAddress)
	});
	if (!body.ok) return failureResponse(body);
	const result = await submitAppeal(event.locals.app, body.data, body.files, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return json(
		{
			reference: result.reference,
			statusToken: result.statusToken,
			dueAt: result.dueAt.toISOString()
		} satisfies AppealFiled,
		{ status: 201, headers: { 'cache-control': 'no-store' } }
	);
};
