import { redirect } from '@sveltejs/kit';
import { audit } from '$lib/server/core/audit';
import { deleteAgentSessionCookie } from '$lib/server/http/agent-session-cookie';
import { invalidateAgentSession } from '$lib/server/support';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async (event) => {
	const { locals } = event;
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
	deleteAgentSessionCookie(event);
	redirect(303, '/support/login');
};
