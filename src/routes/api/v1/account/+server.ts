import { json } from '@sveltejs/kit';
import { pendingRecovery } from '$lib/server/appeals';
import { accountSummary } from '$lib/server/check';
import { failures } from '$lib/server/core/failures';
import { failureResponse } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { AccountView } from '$lib/schemas/responses';

/** API (docs/api.md): the signed-in owner's own view, with a pending recovery (§8a) or null. */
export const GET: RequestHandler = async ({ locals }) => {
	if (!locals.account) return failureResponse(failures.unauthenticated());
	const app = locals.app;
	const [summary, recovery] = await Promise.all([
		accountSummary(app, locals.account),
		pendingRecovery(app, locals.account)
	]);
	return json({ ...summary, pendingRecovery: recovery } satisfies AccountView, {
		headers: { 'cache-control': 'no-store' }
	});
};
