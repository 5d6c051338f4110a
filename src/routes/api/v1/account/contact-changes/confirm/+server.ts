import { json } from '@sveltejs/kit';
import { contactChangeConfirmInput } from '$lib/schemas/account';
import { confirmContactChange } from '$lib/server/contact-change';
import { failures } from '$lib/server/core/failures';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { ContactChanged } from '$lib/schemas/responses';

/** R16 step 2 and R17: the change, atomically under the quota; other sessions signed out. */
export const POST: RequestHandler = async (event) => {
	const { account, session } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, contactChangeConfirmInput);
	if (!body.ok) return body.response;
	const result = await confirmContactChange(event.locals.app, account, body.data, {
		...requestMeta(event),
		sessionId: session?.id ?? null
	});
	if (!result.ok) return failureResponse(result);
	return json({ contactChange: result.quota } satisfies ContactChanged);
};
