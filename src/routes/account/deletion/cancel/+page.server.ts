import { deletionCancelLinkInput } from '$lib/schemas/account';
import { cancelDeletionByLink } from '$lib/server/data-rights';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { linkTokenPage } from '$lib/server/http/link-page';
import type { Actions, PageServerLoad } from './$types';

// R28: the keep-my-account link of a deletion notice. Opening it changes nothing (mail scanners
// open links): the button's POST does.
export const load: PageServerLoad = (event) => ({ token: linkTokenPage(event).token });

export const actions: Actions = {
	keep: async (event) => {
		const input = parseForm(deletionCancelLinkInput, await readForm(event.request, ['token']));
		if (!input.ok) return failForm(input.failure, {});
		const result = await cancelDeletionByLink(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, {});
		return { kept: true as const };
	}
};
