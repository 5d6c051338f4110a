import { json } from '@sveltejs/kit';
import { checkInput } from '$lib/schemas/check';
import { runCheck } from '$lib/server/check';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { checkViewer } from '$lib/server/http/check-viewer';
import type { RequestHandler } from './$types';

/** R14: the same report as the form action, for the enhanced page and native apps. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, checkInput);
	if (!body.ok) return body.response;
	const outcome = await runCheck(event.locals.app, body.data, checkViewer(event));
	if (!outcome.ok) return failureResponse(outcome);
	return json(outcome.report, { headers: { 'cache-control': 'no-store' } });
};
