import { json } from '@sveltejs/kit';
import { eraseDueAccounts } from '$lib/server/data-rights';
import { requireTestHooks } from '$lib/server/http/test-hooks';
import type { RequestHandler } from './$types';

/**
 * Test hook (docs/api.md, only with APP_TEST_HOOKS=1): the R28 erasure job's run now, at the
 * test clock, instead of waiting for its next minute: accounts whose deletion is due are erased.
 */
export const POST: RequestHandler = async ({ locals }) => {
	requireTestHooks(locals.app);
	return json({ erased: await eraseDueAccounts(locals.app) });
};
