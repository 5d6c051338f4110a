import type { LayoutServerLoad } from './$types';

/** Who is signed in, for the console's navigation; each page checks the role itself. */
export const load: LayoutServerLoad = ({ locals, setHeaders }) => {
	setHeaders({ 'cache-control': 'no-store' });
	return { agent: locals.agent };
};
