import { json } from '@sveltejs/kit';
import { apiError } from '$lib/server/http/api-error';
import { parseIdentifier } from '$lib/server/core/identifiers';
import { listOutboxFor } from '$lib/server/messaging';
import { requireTestHooks } from '$lib/server/http/test-hooks';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ url, locals }) => {
	requireTestHooks(locals.app);
	const parsed = parseIdentifier(url.searchParams.get('to') ?? '');
	if (!parsed.ok) return apiError(400, 'invalid_identifier', 'Pass ?to=<email or +phone>.');
	const messages = await listOutboxFor(locals.app, parsed.identifier.value);
	return json({ messages });
};
