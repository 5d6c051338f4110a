import type { ServerLoadEvent } from '@sveltejs/kit';

/**
 * The load of a page opened from a link in a message (R18 reset link, "this wasn't me"): opening
 * it changes nothing — mail scanners fetch links before people do — it hands the link's token to
 * the page's form, whose POST uses it. Never cached.
 */
export function linkTokenPage(event: Pick<ServerLoadEvent, 'url' | 'locals' | 'setHeaders'>): {
	token: string;
	passwordMinLength: number;
} {
	event.setHeaders({ 'cache-control': 'no-store' });
	return {
		token: event.url.searchParams.get('token') ?? '',
		passwordMinLength: event.locals.app.config.passwordMinLength
	};
}
