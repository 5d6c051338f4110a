import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => ({
	testHooks: locals.app.config.testHooks,
	signedIn: locals.account !== null,
	timeZone: locals.timeZone
});
