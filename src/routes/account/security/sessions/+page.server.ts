import { redirect } from '@sveltejs/kit';
import { sessionIdInput } from '$lib/schemas/account';
import {
	listAccountSessions,
	revokeAccountSession,
	revokeOtherSessions
} from '$lib/server/accounts';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { endSession } from '$lib/server/http/session-cookie';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { account, session } = event.locals;
	if (!account) redirect(303, '/login');
	event.setHeaders({ 'cache-control': 'no-store' });
	return {
		sessions: await listAccountSessions(event.locals.app, account, {
			sessionId: session?.id ?? null,
			locale: requestMeta(event).locale
		})
	};
};

export const actions: Actions = {
	revoke: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const input = parseForm(sessionIdInput, await readForm(event.request, ['id']));
		if (!input.ok) return failForm(input.failure, {});
		const result = await revokeAccountSession(event.locals.app, account, input.data.id, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		if (!result.ok) return failForm(result, {});
		if (result.current) {
			await endSession(event);
			redirect(303, '/login');
		}
		return { done: 'revoked' as const };
	},
	revokeOthers: async (event) => {
		const { account, session } = event.locals;
		if (!account) redirect(303, '/login');
		const result = await revokeOtherSessions(event.locals.app, account, {
			...requestMeta(event),
			sessionId: session?.id ?? null
		});
		return { done: 'revokedOthers' as const, count: result.count };
	}
};
