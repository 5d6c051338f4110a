import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { openAppealStatus } from '$lib/server/appeals';
import { requestMeta } from '$lib/server/http/request-meta';
import { messageLink } from '$lib/server/messaging';
import { readAppealAccess } from '../access-cookie';
import type { RequestHandler } from './$types';

/**
 * R19: the receipt as a text file to keep — the reference, the status code, when support answers
 * and where to follow it. Made from the HttpOnly access cookie of this browser (never from a URL),
 * and only when that cookie still opens an appeal; so it works the same with JavaScript off. A
 * cookie that opens nothing counts as a failed open of the status (20 an hour per network).
 */
export const GET: RequestHandler = async (event) => {
	const { cookies, locals } = event;
	const access = readAppealAccess(cookies);
	if (!access) error(404, { message: m.error_appeal_not_found(), code: 'appeal_not_found' });
	// A cookie that opens nothing is a guess like a wrong status code: counted per network (R19).
	const opened = await openAppealStatus(locals.app, access, requestMeta(event));
	if (!opened.ok) error(opened.status, { message: opened.message, code: opened.code });
	const { view } = opened;
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
