import { error, redirect } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { cookieName, isLocale } from '$lib/paraglide/runtime';
import type { RequestHandler } from './$types';

/** Remembers the chosen language for a year and returns to the page the person was on. */
export const POST: RequestHandler = async ({ request, cookies, url }) => {
	let form: FormData;
	try {
		form = await request.formData();
	} catch {
		error(400, { message: m.error_invalid_request(), code: 'invalid_request' });
	}
	const locale = form.get('locale');
	const returnTo = form.get('returnTo');
	if (typeof locale === 'string' && isLocale(locale)) {
		cookies.set(cookieName, locale, {
			path: '/',
			maxAge: 365 * 86_400,
			httpOnly: false,
			sameSite: 'lax'
		});
	}
	redirect(303, typeof returnTo === 'string' ? pathOnThisSite(returnTo, url.origin) : '/');
};

/**
 * Never an open redirect: `returnTo` as the browser will read it, kept only when it stays on this
 * origin. The URL parser drops tabs and newlines and reads `\` as `/` ("/\t/evil.example" is
 * "//evil.example"), so text with either is refused before parsing.
 */
function pathOnThisSite(returnTo: string, origin: string): string {
	// eslint-disable-next-line no-control-regex -- control characters are what this looks for
	if (/[\u0000-\u001f\u007f\\]/.test(returnTo)) return '/';
	let target: URL;
	try {
		target = new URL(returnTo, origin);
	} catch {
		return '/';
	}
	// Dot segments can leave a leading "//" ("/..//evil.example"), which would name a host.
	if (target.origin !== origin || target.pathname.startsWith('//')) return '/';
	return target.pathname + target.search + target.hash;
}
