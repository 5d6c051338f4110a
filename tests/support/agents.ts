import type { AppContext } from '../../src/lib/server/app';
import { createAgent, type Role } from '../../src/lib/server/agents';
import { totpCode, totpStep } from '../../src/lib/server/totp';

export const AGENT_PASSWORD = 'a quiet support desk at dawn';
let agents = 0;

/** An agent made the way the CLI makes one, with a function that reads its authenticator. */
export async function makeAgent(app: AppContext, role: Role = 'agent') {
	agents += 1;
	const result = await createAgent(app, { username: `${role}${agents}-${Math.random().toString(36).slice(2, 6)}`, password: AGENT_PASSWORD, role });
	if (!result.ok) throw new Error(result.problem);
	return { ...result.agent, totp: (offsetSteps = 0) => totpCode(result.totpKey, totpStep(app.clock) + offsetSteps) };
}
