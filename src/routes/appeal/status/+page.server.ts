import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { appealAccessInput, appealReplyInput } from '$lib/schemas/appeal';
import { addressKey } from '$lib/server/platform/address-key';
import {
	answerAppeal,
	appealAnswerAllowed,
	normalizeReference,
	normalizeStatusCode,
	openAppealStatus
} from '$lib/server/appeals';
import { failForm, formError, parseForm, readForm } from '$lib/server/http/forms';
import { readMultipart } from '$lib/server/http/multipart';
import { requestMeta } from '$lib/server/http/request-meta';
import { clearAppealAccess, readAppealAccess, setAppealAccess } from '../access-cookie';
import type { Actions, PageServerLoad } from './$types';
import { isSecure } from '$lib/server/http/secure';

/**
 * R19: the status page opens only with the reference and the secret from the submission. A
 * remembered pair that no longer opens anything (a forged cookie, an erased appeal) counts as a
 * failed open and is forgotten; past the network's limit the form says so.
 */
export const load: PageServerLoad = async (event) => {
	const { cookies, setHeaders, url } = event;
	setHeaders({ 'cache-control': 'no-store' });
	const access = readAppealAccess(cookies);
	const opened = access
		? await openAppealStatus(event.locals.app, access, requestMeta(event))
		: null;
	if (opened && !opened.ok) clearAppealAccess(cookies, isSecure(event));
	const view = opened?.ok ? opened.view : null;
	// The link in an appeal's messages names the reference (never the secret): fill it in; a
	// link to another appeal than the one this device remembers asks for that one's secret.
	const reference = normalizeReference(url.searchParams.get('reference')?.slice(0, 32) ?? '');
	return {
		view: view && (!reference || view.reference === reference) ? view : null,
		reference,
		refused: opened && !opened.ok && opened.code === 'rate_limited' ? formError(opened) : null
	};
};

export const actions: Actions = {
	open: async (event) => {
		const values = await readForm(event.request, ['reference', 'statusToken']);
		const echo = { reference: values.reference ?? '' };
		// R19: an empty reference or secret is named as such, not looked up.
		const input = parseForm(appealAccessInput, values);
		if (!input.ok) return failForm(input.failure, echo);
		const opened = await openAppealStatus(event.locals.app, input.data, requestMeta(event));
		if (!opened.ok) return failForm(opened, echo);
		setAppealAccess(
			event.cookies,
			normalizeReference(input.data.reference),
			normalizeStatusCode(input.data.statusToken),
			isSecure(event)
		);
		return { opened: true };
	},
	/** R19: more documents in answer to a needs-info request. */
	answer: async (event) => {
		const access = readAppealAccess(event.cookies);
		if (!access) error(404, { message: m.error_appeal_not_found(), code: 'appeal_not_found' });
		const refused = await appealAnswerAllowed(event.locals.app, access, requestMeta(event));
		if (refused) {
			await event.request.body?.cancel().catch(() => {});
			return failForm(refused, {});
		}
		const body = await readMultipart(
			event.locals.app,
			event.request,
			appealReplyInput,
			'documents',
			{ network: addressKey(event.locals.app.keys, event.locals.clientAddress) }
		);
		if (!body.ok) return failForm(body, {});
		const result = await answerAppeal(
			event.locals.app,
			access,
			body.data,
			body.files,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, {});
		return { answered: true };
	},
	forget: async (event) => {
		clearAppealAccess(event.cookies, isSecure(event));
		return { forgotten: true };
	}
};
