import { recoveryCancelLinkInput } from '$lib/schemas/recovery';
import { cancelRecoveryByLink } from '$lib/server/appeals';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

// Rules §8a: opening the link changes nothing (mail scanners open links): the button's POST does.
export const load: PageServerLoad = ({ url, setHeaders }) => {
	setHeaders({ 'cache-control': 'no-store' });
	return { token: url.searchParams.get('token') ?? '' };
};

export const actions: Actions = {
	cancel: async (event) => {
		const input = parseForm(recoveryCancelLinkInput, await readForm(event.request, ['token']));
		if (!input.ok) return failForm(input.failure, {});
		const result = await cancelRecoveryByLink(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, {});
		return { cancelled: true as const };
	}
};
