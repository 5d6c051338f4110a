import { redirect } from '@sveltejs/kit';
import { contactChangeConfirmInput, contactChangeInput } from '$lib/schemas/account';
import {
	confirmContactChange,
	quotaView,
	readQuota,
	startContactChange
} from '$lib/server/contact-change';
import { countryCodes } from '$lib/server/core/countries';
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
		return {
			step: 'code' as const,
			masked: result.masked,
			expiresAt: result.expiresAt.toISOString(),
			resendAfter: result.resendAfter.toISOString(),
			serverNow: event.locals.app.clock.now().toISOString()
		};
	},
	confirm: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const values = await readForm(event.request, ['code']);
		const input = parseForm(contactChangeConfirmInput, { code: values.code ?? '' });
		if (!input.ok)
			return failForm({ ok: false, status: 400, ...input.error }, { step: 'code' as const });
		const result = await confirmContactChange(event.locals.app, account, input.data, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		if (!result.ok) return failForm(result, { step: 'code' as const });
		return { step: 'done' as const, quota: result.quota };
	}
};
