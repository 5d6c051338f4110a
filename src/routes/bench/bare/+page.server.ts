import { error } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';

/** `npm run bench`'s SSR ceiling: the app's layout and hooks, a form, no service call. */
export const load: PageServerLoad = ({ locals }) => {
	if (!locals.app.config.benchRoutes) error(404, 'Not found');
	return {};
};

export const actions: Actions = {
	echo: async ({ locals, request }) => {
		if (!locals.app.config.benchRoutes) error(404, 'Not found');
		const form = await request.formData();
		return { echo: String(form.get('text') ?? '').slice(0, 40) };
	}
};
