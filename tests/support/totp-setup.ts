import { expect } from 'vitest';
import { POST as totpStart } from '../../src/routes/api/v1/account/two-factor/totp/+server';
import { POST as totpConfirm } from '../../src/routes/api/v1/account/two-factor/totp/confirm/+server';
import type { TestApp } from './app-context';
import { callEndpoint, type CookieJar } from './endpoints';
import { PASSWORD } from './signed-in';
import { appCode } from './two-step';

// Server tests only: it calls the route modules (endpoints.ts), which Playwright's specs cannot load.
/**
 * Two-step on for the browser of `jar`, as its owner turns it on: the current password (200),
 * then the app's code (201). The code's time step is spent after, so the clock moves on 30 s.
 */
export async function setUpTotp(
	app: TestApp,
	jar: CookieJar,
	from: { clientAddress?: string; headers?: Record<string, string> } = {}
): Promise<{ secret: string; otpauthUri: string; recoveryCodes: string[] }> {
	const started = await callEndpoint(totpStart, app, {
		json: { currentPassword: PASSWORD },
		jar,
		...from
	});
	expect(started.status).toBe(200);
	const { secret, otpauthUri } = (await started.json()) as { secret: string; otpauthUri: string };
	const confirmed = await callEndpoint(totpConfirm, app, {
		json: { code: appCode(secret, app.clock) },
		jar,
		...from
	});
	expect(confirmed.status).toBe(201);
	const { recoveryCodes } = (await confirmed.json()) as { recoveryCodes: string[] };
	app.clock.advance(30_000);
	return { secret, otpauthUri, recoveryCodes };
}
