import type { Actions } from '@sveltejs/kit';

/** The form-post baseline for the check page with JavaScript off. */
export const actions: Actions = {
	default: async ({ request }) => {
		const text = String((await request.formData()).get('text') ?? '');
		return { echoed: text.length };
	}
};
