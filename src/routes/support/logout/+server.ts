import { redirect } from '@sveltejs/kit';
import { audit } from '$lib/server/core/audit';
import { deleteAgentSessionCookie, invalidateAgentSession } from '$lib/server/support';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async ({ locals, cookies, url }) => {
	const { app } = locals;
	if (locals.agentSession && locals.agent) {
		await invalidateAgentSession(app, locals.agentSession.id);
		await audit(app, {
			actorKind: locals.agent.role,
			actorId: locals.agent.id,
			action: 'agent.signed_out',
			subjectKind: 'agent',
			subjectId: locals.agent.id,
			ip: locals.clientAddress
		});
	}
	deleteAgentSessionCookie(cookies, url.protocol === 'https:');
	redirect(303, '/support/login');
};
