import { json } from '@sveltejs/kit';
import { checkReadiness } from '$lib/server/platform/health';
import type { RequestHandler } from './$types';

/** Readiness: database reachable and migrated; 503 takes the instance out of rotation. */
export const GET: RequestHandler = async ({ locals }) => {
	const readiness = await checkReadiness(locals.app);
	const headers = { 'cache-control': 'no-store' };
	if (readiness.ready) return json({ status: 'ok' }, { headers });
	const { reason, pending } = readiness;
	return json(
		{ status: 'unavailable', reason, ...(pending ? { pendingMigrations: pending } : {}) },
		{ status: 503, headers }
	);
};
