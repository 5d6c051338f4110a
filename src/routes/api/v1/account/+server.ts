import { json } from '@sveltejs/kit';
import { accountSummary } from '$lib/server/check';
import { failures } from '$lib/server/core/failures';
import { failureResponse } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';

/** API (docs/api.md): the signed-in owner's own view. */
export const GET: RequestHandler = async ({ locals }) => {
	if (!locals.account) return failureResponse(failures.unauthenticated());
	return json(await accountSummary(locals.app, locals.account), {
		headers: { 'cache-control': 'no-store' }
	});
};
