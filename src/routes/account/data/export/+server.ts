import { redirect } from '@sveltejs/kit';
import { accountExportInput } from '$lib/schemas/account';
import { exportAccountData } from '$lib/server/data-rights';
import { exportDownload } from '$lib/server/http/account-export';
import { parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';

/**
 * R28: the "Download my data" form of /account/data without JavaScript. A file cannot be a page,
 * so this answers the file itself, or goes back to the page naming the refusal's code (never the
 * password). With JavaScript the page calls `POST /api/v1/account/export` instead.
 */
export const POST: RequestHandler = async (event) => {
	const { account } = event.locals;
	if (!account) redirect(303, '/login');
	const input = parseForm(
		accountExportInput,
		await readForm(event.request, ['currentPassword', 'code'])
	);
	const result = input.ok
		? await exportAccountData(event.locals.app, account, input.data, requestMeta(event))
		: input.failure;
	if (!result.ok) redirect(303, `/account/data?${new URLSearchParams({ exportError: result.code })}`);
	return exportDownload(result.data);
};
