import { redirect } from '@sveltejs/kit';
import { deletionDueAt } from '$lib/server/data-rights';
import { boundContacts, maskIdentifier } from '$lib/server/core/identifiers';
import { hasTotp } from '$lib/server/two-step';
import { deleteAccountAction, keepAccountAction } from './deletion-actions';
import type { Actions, PageServerLoad } from './$types';

/** The codes a failed download (JavaScript off, `./export`) names in `?exportError=`; any other is shown as a generic failure. */
const EXPORT_ERRORS = [
	'invalid_credentials',
	'second_factor_required',
	'code_invalid',
	'rate_limited',
	'invalid_request'
] as const;
export type ExportErrorCode = (typeof EXPORT_ERRORS)[number] | 'failed';

/** R28: the owner's copy of their data and the deletion of the account. */
export const load: PageServerLoad = async ({ locals, url, setHeaders }) => {
	const { account } = locals;
	if (!account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const named = url.searchParams.get('exportError');
	const exportError: ExportErrorCode | null =
		named === null
			? null
			: ((EXPORT_ERRORS as readonly string[]).includes(named)
					? (named as ExportErrorCode)
					: 'failed');
	const contacts = boundContacts(account).map(maskIdentifier);
	return {
		// R28: with an authenticator app on, the copy also needs one of its codes.
		totpOn: await hasTotp(locals.app, account.id),
		contacts,
		deletionDueAt: deletionDueAt(account)?.toISOString() ?? null,
		exportError
	};
};

export const actions: Actions = {
	deleteAccount: deleteAccountAction,
	keepAccount: keepAccountAction
};
