import { error } from '@sveltejs/kit';
import { bearerMatches } from '$lib/server/http/bearer';
import { collectMetrics } from '$lib/server/platform/metrics';
import type { RequestHandler } from './$types';

/** Prometheus scrape: absent (404) unless METRICS_TOKEN is set, then only with that bearer token. */
export const GET: RequestHandler = async ({ request, locals }) => {
	const { app } = locals;
	const token = app.config.metricsToken;
	if (!token) error(404, 'Not found');
	if (!bearerMatches(request.headers.get('authorization'), token)) {
		return new Response('unauthorized\n', {
			status: 401,
			headers: {
				'www-authenticate': 'Bearer realm="metrics"',
				'cache-control': 'no-store',
				'content-type': 'text/plain; charset=utf-8'
			}
		});
	}
	return new Response(await collectMetrics(app), {
		headers: { 'content-type': app.metrics.registry.contentType, 'cache-control': 'no-store' }
	});
};
