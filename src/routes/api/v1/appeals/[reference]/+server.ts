import { json } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { openAppealStatus } from '$lib/server/appeals';
import { apiError, failureResponse } from '$lib/server/http/api-error';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';
import type { AppealView } from '$lib/schemas/responses';

/**
 * docs/api.md, R19: the status, only with the submission's secret; 404 for anything else, and
 * `429` once a network has missed 20 times in an hour (a right secret is still answered).
 */
export const GET: RequestHandler = async (event) => {
	const token = /^Bearer (\S{1,128})$/.exec(event.request.headers.get('authorization') ?? '')?.[1];
	if (!token) return apiError(404, 'appeal_not_found', m.error_appeal_not_found());
	const result = await openAppealStatus(
		event.locals.app,
		{ reference: event.params.reference, statusToken: token },
		requestMeta(event)
	);
	if (!result.ok) return failureResponse(result);
	const { documents: _documents, ...body } = result.view;
	return json(body satisfies AppealView, { headers: { 'cache-control': 'no-store' } });
};
