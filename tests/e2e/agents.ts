import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateTOTP } from '@oslojs/otp';
import { expect, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { e2eDatabase } from '../../playwright.config';
import { E2E_SECRET_KEYS } from '../support/keys';

export const AGENT_PASSWORD = 'a quiet support desk at dawn';

/** R22: agents exist only through the CLI; tests make one the way an operator would. */
export function createAgentWithCli(
	username: string,
	databaseUrl = `file:${e2eDatabase}`,
	role: 'agent' | 'admin' = 'agent'
): { id: string; totpSecret: string } {
	const out = execFileSync(
		'npx',
		['tsx', 'scripts/agent.ts', 'create', username, '--role', role, '--json'],
		{
			// The servers' key ring: the TOTP secret is sealed with it.
			env: {
				...process.env,
				DATABASE_URL: databaseUrl,
				AGENT_PASSWORD,
				NODE_ENV: 'production',
				APP_SECRET_KEYS: E2E_SECRET_KEYS
			},
			encoding: 'utf8'
		}
	);
	return JSON.parse(out.trim().split('\n').at(-1)!) as { id: string; totpSecret: string };
}

/** TOTP codes come from real time: the server's test clock is put back on it. */
export async function clockOnRealTime(request: APIRequestContext): Promise<void> {
	expect(
		(await request.post('/api/test/clock', { data: { now: new Date().toISOString() } })).status()
	).toBe(200);
}

/** The authenticator's current code for a TOTP secret. */
export function totpNow(secret: string): string {
	return generateTOTP(decodeBase32IgnorePadding(secret), 30, 6);
}
