import { json } from '@sveltejs/kit';
import { pendingRecovery } from '$lib/server/appeals';
import { accountSummary } from '$lib/server/check';
import { deletionDueAt } from '$lib/server/data-rights';
import { failures } from '$lib/server/core/failures';
import { failureResponse } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { AccountView } from '$lib/schemas/responses';

/**
 * API (docs/api.md): the signed-in owner's own view, with a pending recovery (§8a) or null, and
 * the time a deletion they asked for takes effect (R28) or null.
 */
export const GET: RequestHandler = async ({ locals }) => {
	if (!locals.account) return failureResponse(failures.unauthenticated());
	const app = locals.app;
	const [summary, recovery] = await Promise.all([
		accountSummary(app, locals.account),
		pendingRecovery(app, locals.account)
	]);
	const deletion = deletionDueAt(locals.account);
	const view: AccountView = {
		...summary,
		pendingRecovery: recovery,
		deletionDueAt: deletion?.toISOString() ?? null
	};
	return json(view, {
		headers: { 'cache-control': 'no-store' }
	});
};
