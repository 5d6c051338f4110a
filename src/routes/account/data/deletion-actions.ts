import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { accountDeletionInput } from '$lib/schemas/account';
import { cancelDeletionByOwner, requestDeletion } from '$lib/server/data-rights';
import { failure } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, formError, parseForm, readForm } from '$lib/server/http/forms';
import { deleteSessionCookie } from '$lib/server/http/session-cookie';

/**
 * R28: the `?/deleteAccount` action of /account/data. The password again and the confirm box;
 * every session ends with it, this one too: its cookie goes, and the page is still drawn for this
 * request (JavaScript off) with the time the deletion takes effect.
 */
export async function deleteAccountAction(event: RequestEvent) {
	const { account } = event.locals;
	if (!account) redirect(303, '/login');
	const values = await readForm(event.request, ['currentPassword', 'confirm']);
	if (values.confirm !== 'yes')
		return failForm(
			failure(400, 'confirm_required', m.data_delete_confirm_required(), { field: 'confirm' }),
			{}
		);
	const input = parseForm(accountDeletionInput, { currentPassword: values.currentPassword ?? '' });
	if (!input.ok) return failForm(input.failure, {});
	const result = await requestDeletion(event.locals.app, account, input.data, requestMeta(event));
	if (!result.ok) return failForm(result, {});
	deleteSessionCookie(event);
	return { deletionDueAt: result.effectiveAt.toISOString() };
}

/**
 * R28: the `?/keepAccount` action of the pages that show a waiting deletion (`/account`,
 * `/account/data`): the owner, signed in again during the 14 days, keeps the account. Its error
 * is `keepError`, apart from the other forms' `error` on the same page.
 */
export async function keepAccountAction(event: RequestEvent) {
	const { account } = event.locals;
	if (!account) redirect(303, '/login');
	const result = await cancelDeletionByOwner(event.locals.app, account, requestMeta(event));
	if (!result.ok) return fail(result.status, { keepError: formError(result) });
	return { deletionKept: true as const };
}
