import { requireTestHooks } from '$lib/server/http/test-hooks';
import type { PageServerLoad } from './$types';

/**
 * docs/api.md §10: a page whose load fails, so tests see the 500 page as a person would (the
 * site's frame, a way home, the request id). A plain 404 without APP_TEST_HOOKS=1.
 */
export const load: PageServerLoad = ({ locals }) => {
	requireTestHooks(locals.app);
	throw new Error('test hook: a deliberate server error');
};
