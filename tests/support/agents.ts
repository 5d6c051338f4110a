import { isHttpError } from '@sveltejs/kit';
import type { AppContext } from '../../src/lib/server/core/context';
import type { Agent } from '../../src/lib/server/support/agents';
import { GET as document } from '../../src/routes/support/documents/[id]/+server';
import { callEndpoint } from './endpoints';
import { createAgent, type Role } from '../../src/lib/server/support/agents';
import { totpCode, totpStep } from '../../src/lib/server/core/totp';

export const AGENT_PASSWORD = 'a quiet support desk at dawn';
let agents = 0;

/** An agent made the way the CLI makes one, with a function that reads its authenticator. */
export async function makeAgent(app: AppContext, role: Role = 'agent') {
	agents += 1;
	const result = await createAgent(app, {
		username: `${role}${agents}-${Math.random().toString(36).slice(2, 6)}`,
		password: AGENT_PASSWORD,
		role
	});
	if (!result.ok) throw new Error(result.problem);
	return {
		...result.agent,
		totp: (offsetSteps = 0) => totpCode(result.totpKey, totpStep(app.clock) + offsetSteps)
	};
}

/** GET /support/documents/{id} as `agent` (null: no agent session), with an optional buyer jar. */
export function requestDocument(
	app: AppContext,
	id: string,
	agent: Agent | null,
	jar?: Map<string, string>,
	clientAddress?: string
): Promise<Response> {
	return callEndpoint(
		(event: Parameters<typeof document>[0]) => {
			event.locals.agent = agent;
			return document({ ...event, params: { id } });
		},
		app,
		{
			method: 'GET',
			path: `/support/documents/${id}`,
			jar,
			...(clientAddress ? { clientAddress } : {})
		}
	);
}

/** The HTTP status of a handler's answer, whether it returned a response or threw `error()`. */
export async function statusOf(promise: Promise<Response>): Promise<number> {
	try {
		return (await promise).status;
	} catch (error) {
		if (isHttpError(error)) return error.status;
		throw error;
	}
}
