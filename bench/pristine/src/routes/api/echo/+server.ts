import { json, type RequestHandler } from '@sveltejs/kit';

/** The JSON baseline for POST /api/v1/check: parse the body, answer a small JSON object. */
export const POST: RequestHandler = async ({ request }) => {
	const body = (await request.json()) as { identifier?: unknown };
	return json({ identifier: typeof body.identifier === 'string' ? body.identifier.length : 0 });
};
