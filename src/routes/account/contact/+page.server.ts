import { redirect } from '@sveltejs/kit';
import { contactChangeConfirmInput, contactChangeInput } from '$lib/schemas/account';
import {
	confirmContactChange,
	quotaView,
	pendingChangeContact,
	readQuota,
	resendContactChangeCode,
	startContactChange
} from '$lib/server/contact-change';
import { countryCodes } from '$lib/server/core/countries';
import { maskIdentifier } from '$lib/server/core/identifiers';
import type { Ctx } from '$lib/server/core/context';
import { echoedTiming, sentTiming, TIMING_FIELDS } from '$lib/server/http/code-step';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/core/request-meta';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const quota = await readQuota(locals.app, locals.account.id);
	// R16: the quota meter is shown before the person starts.
	return {
		quota: quotaView(quota),
		blockedBy: quota.blockedBy,
		countries: countryCodes,
		country: locals.account.country,
		now: locals.app.clock.now().toISOString()
	};
};

function codeStep(sent: { masked: string; expiresAt: Date; resendAfter: Date }, now: Date) {
	return { step: 'code' as const, masked: sent.masked, timing: sentTiming(sent, now) };
}

/** A failed resend or confirm stays on the code step, still saying where the code went. */
async function stillOnCodeStep(
	app: Ctx,
	accountId: string,
	values: Record<string, string | undefined>
) {
	const pending = await pendingChangeContact(app, accountId);
	return {
		step: 'code' as const,
		masked: pending ? maskIdentifier(pending) : undefined,
		timing: echoedTiming(values, app.clock.now())
	};
}

export const actions: Actions = {
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
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await startContactChange(
			event.locals.app,
			account,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, echo);
		return codeStep(result, event.locals.app.clock.now());
	},
	// R6: a new code to the contact already being proved; the password was asked at the start.
	resend: async (event) => {
		const { account } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, TIMING_FIELDS);
		const result = await resendContactChangeCode(event.locals.app, account, requestMeta(event));
		if (!result.ok)
			return failForm(result, await stillOnCodeStep(event.locals.app, account.id, values));
		return codeStep(result, event.locals.app.clock.now());
	},
	confirm: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['code', ...TIMING_FIELDS]);
		const echo = await stillOnCodeStep(event.locals.app, account.id, values);
		const input = parseForm(contactChangeConfirmInput, { code: values.code ?? '' });
		if (!input.ok) return failForm({ ok: false, status: 400, ...input.error }, echo);
		const result = await confirmContactChange(event.locals.app, account, input.data, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		if (!result.ok) return failForm(result, echo);
		return { step: 'done' as const, quota: result.quota };
	}
};
