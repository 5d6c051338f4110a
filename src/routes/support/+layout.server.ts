import { smsBudgetSpent } from '$lib/server/messaging';
import type { LayoutServerLoad } from './$types';

/**
 * Who is signed in, for the console's navigation; each page checks the role itself. R29: whether
 * today's SMS budget (UTC) is spent, for the banner that says codes go by email.
 */
export const load: LayoutServerLoad = async ({ locals, setHeaders }) => {
	setHeaders({ 'cache-control': 'no-store' });
	return {
		agent: locals.agent,
		smsBudgetSpent: locals.agent ? await smsBudgetSpent(locals.app) : false
	};
};
