import { redirect } from '@sveltejs/kit';
import { contactChangeConfirmInput, contactChangeInput } from '$lib/schemas/account';
import { checkInput } from '$lib/schemas/check';
import {
	confirmContactChange,
	quotaView,
	pendingChangeContact,
	pendingContactChange,
	readQuota,
	resendContactChangeCode,
	startContactChange
} from '$lib/server/contact-change';
import { countryCodes } from '$lib/server/core/countries';
import { maskIdentifier, parseIdentifier } from '$lib/server/core/identifiers';
import { echoedTiming, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
import { forgetTyped, readTyped, rememberTyped } from '$lib/server/http/code-step-cookie';
import type { Identifier } from '$lib/server/core/identifiers';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/http/request-meta';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/**
 * R16/R6: a plain GET (a reload, a return from the mail app) shows the account's pending
 * code step again while its code is live, naming the new contact as this browser typed it (its
 * own sealed cookie, bound to the account). It sends nothing.
 */
export const load: PageServerLoad = async (event) => {
	const { locals, setHeaders } = event;
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const quota = await readQuota(locals.app, locals.account.id);
	const typed = readTyped(event, 'contact', locals.account.id);
	const pending = typed?.pending ? await pendingContactChange(locals.app, locals.account.id) : null;
	// R16: the quota meter is shown before the person starts.
	return {
		quota: quotaView(quota),
		blockedBy: quota.blockedBy,
		countries: countryCodes,
		country: typed?.country || locals.account.country,
		now: locals.app.clock.now().toISOString(),
		typed: typed?.identifier,
		resumed: pending
			? codeStep(shownAs(event, pending.identifier), pending, locals.app.clock.now())
			: undefined
	};
};

function codeStep(to: string, sent: { expiresAt: Date; resendAfter: Date }, now: Date) {
	return { step: 'code' as const, to, timing: sentTiming(sent, now) };
}

/**
 * Issue 26: the new contact as this browser typed it, in full, when its cookie names the contact
 * the code went to; masked otherwise (another browser of the account never sees it in full).
 */
function shownAs(event: RequestEvent, next: Identifier): string {
	const typed = event.locals.account && readTyped(event, 'contact', event.locals.account.id);
	if (!typed) return maskIdentifier(next);
	const same = parseIdentifier(typed.identifier, typed.country || undefined);
	return same.ok && same.identifier.value === next.value ? typed.identifier : maskIdentifier(next);
}

/** A failed resend or confirm stays on the code step, still saying where the code went. */
async function stillOnCodeStep(
	event: RequestEvent,
	accountId: string,
	values: Record<string, string | undefined>
) {
	const { app } = event.locals;
	const pending = await pendingChangeContact(app, accountId);
	return {
		step: 'code' as const,
		to: pending ? shownAs(event, pending) : undefined,
		timing: echoedTiming(values, app.clock.now())
	};
}

export const actions: Actions = {
	/**
	 * R14/R16: the check report's "Change the bound email or phone" (offered to the signed-in
	 * owner), a POST so what was checked stays out of the URL. What was checked is the contact
	 * being replaced, not the new one: the page names it (only when it is this account's own, as
	 * typed) and the new-contact field stays empty. Nothing is kept or sent.
	 */
	fromCheck: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['identifier', 'country']);
		const echo = { step: 'details' as const, newIdentifier: '' };
		const input = parseForm(checkInput, values);
		if (!input.ok) return failForm(input.failure, echo);
		const checked = parseIdentifier(input.data.identifier, input.data.country);
		const own = checked.ok && [account.email, account.phone].includes(checked.identifier.value);
		return {
			...echo,
			country: input.data.country,
			replacing: own ? input.data.identifier.trim() : undefined
		};
	},
	start: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['currentPassword', 'newIdentifier', 'country']);
		const echo = {
			step: 'details' as const,
			newIdentifier: values.newIdentifier ?? '',
			country: values.country
		};
		const input = parseForm(contactChangeInput, {
			...values,
			currentPassword: values.currentPassword ?? '',
			newIdentifier: values.newIdentifier ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const result = await startContactChange(
			event.locals.app,
			account,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, echo);
		const typed = { identifier: input.data.newIdentifier, country: input.data.country ?? '' };
		rememberTyped(event, 'contact', { ...typed, pending: true }, account.id);
		return codeStep(typed.identifier.trim(), result, event.locals.app.clock.now());
	},
	// R6: a new code to the contact already being proved; the password was asked at the start.
	resend: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, TIMING_FIELDS);
		const result = await resendContactChangeCode(event.locals.app, account, requestMeta(event));
		if (!result.ok) return failForm(result, await stillOnCodeStep(event, account.id, values));
		const pending = await pendingChangeContact(event.locals.app, account.id);
		const to = pending ? shownAs(event, pending) : result.masked;
		return codeStep(to, result, event.locals.app.clock.now());
	},
	/** Issue 26: "Wrong address? Change it": the first step, filled in; the code is left as it is. */
	change: (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const typed = readTyped(event, 'contact', account.id);
		if (typed) rememberTyped(event, 'contact', { ...typed, pending: false }, account.id);
		return {
			step: 'details' as const,
			newIdentifier: typed?.identifier ?? '',
			country: typed?.country || undefined
		};
	},
	confirm: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['code', ...TIMING_FIELDS]);
		const echo = await stillOnCodeStep(event, account.id, values);
		const input = parseForm(contactChangeConfirmInput, { code: values.code ?? '' });
		if (!input.ok) return failForm(input.failure, echo);
		const result = await confirmContactChange(event.locals.app, account, input.data, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		if (!result.ok) return failForm(result, echo);
		forgetTyped(event, 'contact');
		return { step: 'done' as const, quota: result.quota };
	}
};
