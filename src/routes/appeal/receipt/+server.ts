import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { appealStatus } from '$lib/server/appeals';
import { messageLink } from '$lib/server/messaging';
import { readAppealAccess } from '../access-cookie';
import type { RequestHandler } from './$types';

/**
 * R19: the receipt as a text file to keep — the reference, the status code, when support answers
 * and where to follow it. Made from the HttpOnly access cookie of this browser (never from a URL),
 * and only when that cookie still opens an appeal; so it works the same with JavaScript off.
 */
export const GET: RequestHandler = async ({ cookies, locals }) => {
	const access = readAppealAccess(cookies);
	const view = access ? await appealStatus(locals.app, access.reference, access.statusToken) : null;
	if (!access || !view)
		error(404, { message: m.error_appeal_not_found(), code: 'appeal_not_found' });
	const link = messageLink(locals.app.config.origin, `/appeal/status?reference=${view.reference}`);
	const text = [
		m.ap_receipt_file_title(),
		'',
		`${m.appeal_reference_label()}: ${view.reference}`,
		`${m.appeal_secret_label()}: ${access.statusToken}`,
		`${m.appeal_due_label()}: ${view.dueAt}`,
		`${m.appeal_open_status()}: ${link}`,
		'',
		m.ap_receipt_file_keep(),
		''
	].join('\r\n');
	return new Response(text, {
		headers: {
			'content-type': 'text/plain; charset=utf-8',
			'content-disposition': `attachment; filename="appeal-${view.reference}.txt"`,
			'cache-control': 'no-store',
			'x-content-type-options': 'nosniff'
		}
	});
};
