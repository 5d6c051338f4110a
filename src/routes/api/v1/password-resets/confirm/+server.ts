import { m } from '$lib/paraglide/messages';
import { passwordResetConfirmInput } from '$lib/schemas/account';
import { passwordResetLinkConfirmInput } from '$lib/schemas/freeze';
import { apiError, failureResponse, fieldErrors, readJsonObject } from '$lib/server/http/api-error';
import { confirmPasswordReset } from '$lib/server/accounts';
import { confirmPasswordResetByLink } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import type { RequestHandler } from './$types';

/**
 * R18 step 2: 204; every session of the account revoked, §7b's freeze lifted. Either
 * `{identifier, code, newPassword}` or the reset link's `{token, newPassword}` (rules §7).
 */
export const POST: RequestHandler = async (event) => {
	const body = await readJsonObject(event.request);
	if (!body.ok) return body.response;
	const { app } = event.locals;
	const meta = requestMeta(event);
	const byLink = typeof body.value === 'object' && body.value !== null && 'token' in body.value;
	const input = (byLink ? passwordResetLinkConfirmInput : passwordResetConfirmInput).safeParse(
		body.value
	);
	if (!input.success)
		return apiError(400, 'invalid_request', m.error_invalid_request(), {
			fields: fieldErrors(input.error)
		});
	const result =
		'token' in input.data
			? await confirmPasswordResetByLink(app, input.data, meta)
			: await confirmPasswordReset(app, input.data, meta);
	if (!result.ok) return failureResponse(result);
	return new Response(null, { status: 204 });
};
