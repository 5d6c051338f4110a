import { accountExportInput } from '$lib/schemas/account';
import { exportAccountData } from '$lib/server/data-rights';
import { failures } from '$lib/server/core/failures';
import { exportDownload } from '$lib/server/http/account-export';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse, parseJsonBody } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';

/** R28: the signed-in owner's copy of their data (password, and a code with an app on) → 200. */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const body = await parseJsonBody(event.request, accountExportInput);
	if (!body.ok) return body.response;
	const result = await exportAccountData(event.locals.app, account, body.data, requestMeta(event));
	if (!result.ok) return failureResponse(result);
	return exportDownload(result.data);
};
