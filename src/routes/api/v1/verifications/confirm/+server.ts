import { json } from '@sveltejs/kit';
import { verificationConfirmInput } from '$lib/schemas/check';
import { runCheck } from '$lib/server/check';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { rememberCheckProof } from '$lib/server/http/check-grant-cookie';
import { checkViewer } from '$lib/server/http/check-viewer';
import type { CheckReportBody } from '$lib/schemas/responses';
import type { RequestHandler } from './$types';

/**
 * R15a: a right `check` code shows the verified report and remembers the proof in this browser.
 * The same `runCheck` as the public check (R15: limited and counted); the form action shares it.
 */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, verificationConfirmInput);
	if (!body.ok) return body.response;
	const { app } = event.locals;
	const { code, identifier, country } = body.data;
	const outcome = await runCheck(app, { identifier, country }, checkViewer(event), { code });
	if (!outcome.ok) return failureResponse(outcome);
	rememberCheckProof(event, outcome);
	return json(outcome.report satisfies CheckReportBody, {
		headers: { 'cache-control': 'no-store' }
	});
};
