import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { openDocument } from '$lib/server/appeals';
import { requireAgent } from '$lib/server/http/agent-guard';
import type { RequestHandler } from './$types';

/**
 * R19/R22: identity documents only for signed-in agents; never cached, never sniffed into
 * something else, sandboxed if opened on their own. What is stored is a page rebuilt from pixels
 * (inspect.ts), so the console shows it inline in an `<img>` (`?view=1`); otherwise, and for
 * anything that is not such an image (files stored before the rebuild), it is a download.
 */
export const GET: RequestHandler = async (event) => {
	const agent = requireAgent(event);
	if (!/^[0-9a-f-]{36}$/.test(event.params.id))
		error(404, { message: m.error_appeal_not_found(), code: 'not_found' });
	const doc = await openDocument(event.locals.app, agent, event.params.id, {
		ip: event.locals.clientAddress
	});
	if (!doc) error(404, { message: m.error_appeal_not_found(), code: 'not_found' });
	const inline =
		event.url.searchParams.get('view') === '1' &&
		(doc.contentType === 'image/png' || doc.contentType === 'image/jpeg');
	return new Response(Buffer.from(doc.bytes), {
		headers: {
			'content-type': doc.contentType,
			'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${doc.filename}"`,
			'x-content-type-options': 'nosniff',
			'cache-control': 'no-store',
			'content-security-policy': "default-src 'none'; sandbox",
			'cross-origin-resource-policy': 'same-origin'
		}
	});
};
