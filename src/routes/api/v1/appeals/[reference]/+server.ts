import { json } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { appealStatus } from '$lib/server/appeals';
import { apiError } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { AppealView } from '$lib/schemas/responses';

/** docs/api.md, R19: the status, only with the submission's secret; 404 for anything else. */
export const GET: RequestHandler = async ({ params, request, locals }) => {
	const token = /^Bearer (\S{1,128})$/.exec(request.headers.get('authorization') ?? '')?.[1];
	const view = token ? await appealStatus(locals.app, params.reference, token) : null;
	if (!view) return apiError(404, 'appeal_not_found', m.error_appeal_not_found());
	const { documents: _documents, ...body } = view;
	return json(body satisfies AppealView, { headers: { 'cache-control': 'no-store' } });
};
