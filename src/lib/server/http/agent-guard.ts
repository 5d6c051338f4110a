import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import type { Agent, Role } from '../support';

/**
 * R22: every support page, action and document calls this itself — a layout guard does not
 * cover form actions or endpoints. Pages redirect to the sign-in; endpoints answer 403.
 */
export function requireAgent(
	event: Pick<RequestEvent, 'locals' | 'url'>,
	options: { role?: Role; page?: boolean } = {}
): Agent {
	const agent = event.locals.agent;
	if (!agent) {
		if (options.page) redirect(303, `/support/login`);
		error(403, { message: m.support_error_forbidden(), code: 'forbidden' });
	}
	if (options.role === 'admin' && agent.role !== 'admin')
		error(403, { message: m.support_error_forbidden(), code: 'forbidden' });
	return agent;
}
