import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateTOTP } from '@oslojs/otp';
import { execFileSync } from 'node:child_process';
import { e2eDatabase } from '../../playwright.config';

export const AGENT_PASSWORD = 'a quiet support desk at dawn';

/** R22: agents exist only through the CLI; tests make one the way an operator would. */
export function createAgentWithCli(username: string): { totpSecret: string } {
	const out = execFileSync('npx', ['tsx', 'scripts/agent.ts', 'create', username, '--role', 'agent', '--json'], {
		env: { ...process.env, DATABASE_URL: `file:${e2eDatabase}`, AGENT_PASSWORD, NODE_ENV: 'production' },
		encoding: 'utf8'
	});
	return JSON.parse(out.trim().split('\n').at(-1)!) as { totpSecret: string };
}

/** The authenticator's current code for a TOTP secret. */
export function totpNow(secret: string): string {
	return generateTOTP(decodeBase32IgnorePadding(secret), 30, 6);
}
