import { error, json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** `npm run bench`'s ceiling: the same hooks as every request, then nothing. Off unless BENCH_ROUTES=1. */
export const POST: RequestHandler = ({ locals }) => {
	if (!locals.app.config.benchRoutes) error(404, 'Not found');
	return json({ ok: true });
};
