import { json } from '@sveltejs/kit';
import { verificationConfirmInput } from '$lib/schemas/check';
import { buildReport } from '$lib/server/check';
import { setCheckGrant } from '$lib/server/check-grant';
import { confirmCheckCode } from '$lib/server/check-verification';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import { checkViewer } from '$lib/server/http/check-viewer';
import type { RequestHandler } from './$types';

/** R15a: a right `check` code shows the verified report and remembers the proof in this browser. */
export const POST: RequestHandler = async (event) => {
	const body = await parseJsonBody(event.request, verificationConfirmInput);
	if (!body.ok) return body.response;
	const { app } = event.locals;
	const result = await confirmCheckCode(app, body.data);
	if (!result.ok) return failureResponse(result);
	setCheckGrant(app, event.cookies, result.identifier.value, event.locals.deviceId, event.url.protocol === 'https:');
	const viewer = { ...checkViewer(event), proven: () => true };
	const report = await buildReport({ db: app.database.db, clock: app.clock, mode: app.config.checkDisclosure }, result.identifier, body.data.country, viewer);
	return json(report, { headers: { 'cache-control': 'no-store' } });
};
