import { redirect } from '@sveltejs/kit';
import { cookieName, isLocale } from '$lib/paraglide/runtime';
import type { RequestHandler } from './$types';

/** Remembers the chosen language for a year and returns to the page the person was on. */
export const POST: RequestHandler = async ({ request, cookies }) => {
	const form = await request.formData();
	const locale = String(form.get('locale') ?? '');
	const returnTo = String(form.get('returnTo') ?? '/');
	if (isLocale(locale)) {
		cookies.set(cookieName, locale, { path: '/', maxAge: 365 * 86_400, httpOnly: false, sameSite: 'lax' });
	}
	// Only a path on this site: never an open redirect.
	redirect(303, /^\/(?![/\\])/.test(returnTo) ? returnTo : '/');
};
