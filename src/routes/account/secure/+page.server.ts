import { secureAccountInput } from '$lib/schemas/account';
import { secureAccount } from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { endSession } from '$lib/server/http/session-cookie';
import { linkTokenPage } from '$lib/server/http/link-page';
import type { Actions, PageServerLoad } from './$types';

// Opening the link changes nothing (mail scanners open links): the button's POST does.
export const load: PageServerLoad = linkTokenPage;

export const actions: Actions = {
	secure: async (event) => {
		const input = parseForm(secureAccountInput, await readForm(event.request, ['token']));
		if (!input.ok) return failForm(input.failure, {});
		const result = await secureAccount(event.locals.app, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, {});
		// This browser's session, if it was the account's, is gone with the others: drop its cookie.
		if (event.locals.account?.id === result.accountId) await endSession(event);
		// The next step is the password reset's (R18): its form posts to /forgot-password.
		return {
			step: 'code' as const,
			identifier: result.contact.value,
			masked: result.masked,
			codeSent: result.codeSent,
			// §7a: the page says so when factors added since the message were taken back.
			twoStepRemoved: result.twoStepRemoved.passkeys > 0 || result.twoStepRemoved.totp
		};
	}
};
