import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { signInAgent, createAgentSession, generateAgentSessionToken } from '$lib/server/support';
import { setAgentSessionCookie } from '$lib/server/http/agent-session-cookie';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

const agentSignInInput = z.strictObject({
	username: z.string().max(40),
	password: z.string().max(1024),
	otp: z.string().max(16)
});

export const load: PageServerLoad = ({ locals }) => {
	if (locals.agent) redirect(303, '/support');
};

export const actions: Actions = {
	default: async (event) => {
		const values = await readForm(event.request, ['username', 'password', 'otp']);
		const echo = { username: values.username ?? '' };
		const input = parseForm(agentSignInInput, {
			username: values.username ?? '',
			password: values.password ?? '',
			otp: values.otp ?? ''
		});
		if (!input.ok) return failForm(input.failure, echo);
		const { app } = event.locals;
		const result = await signInAgent(app, input.data, { ip: event.locals.clientAddress });
		if (!result.ok) return failForm(result, echo);
		const token = generateAgentSessionToken();
		await createAgentSession(app, token, result.agent.id, event.locals.clientAddress);
		setAgentSessionCookie(event, token);
		redirect(303, '/support');
	}
};
