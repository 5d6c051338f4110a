import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { E2E_SECRET_KEYS } from './tests/support/keys';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
	throw new Error(
		`No Chromium at ${chromium}: run "apt-get install -y chromium" (never "playwright install"), or set CHROMIUM_PATH.`
	);
}

const port = Number(process.env.E2E_PORT ?? 4173);
export const strictPort = port + 1;
export const e2eDatabase = 'test-results/e2e.db';
export const e2eStrictDatabase = 'test-results/e2e-strict.db';
/**
 * WebAuthn refuses an IP address as the relying party id, so passkeys are tested on a server
 * whose ORIGIN is http://localhost (a secure context to Chromium, as 127.0.0.1 is).
 */
export const passkeyPort = port + 2;
export const e2ePasskeyDatabase = 'test-results/e2e-passkey.db';
/**
 * R27: the first server's webhook receiver, a loopback port beside the servers' that nothing
 * listens on (below the ephemeral range the specs' own servers take): every delivery fails, for
 * the console's list of failures (tests/e2e/support-webhooks.spec.ts).
 */
export const webhookReceiverPort = port + 9;

/** The built app (adapter-node) on its own fresh SQLite file, with the test hooks on. */
function server(listen: number, database: string, env: Record<string, string>) {
	return {
		command: `rm -f ${database} ${database}-wal ${database}-shm && node build`,
		url: `http://127.0.0.1:${listen}/`,
		reuseExistingServer: false,
		timeout: 60_000,
		env: {
			PORT: String(listen),
			HOST: '127.0.0.1',
			ORIGIN: `http://127.0.0.1:${listen}`,
			DATABASE_URL: `file:${database}`,
			APP_TEST_HOOKS: '1',
			TRUST_PROXY: '1',
			NODE_ENV: 'production',
			APP_SECRET_KEYS: E2E_SECRET_KEYS,
			// Appeals carry up to 3 documents of 5 MB (R19).
			BODY_SIZE_LIMIT: '20M',
			...env
		}
	};
}

export default defineConfig({
	testDir: 'tests/e2e',
	outputDir: 'test-results/playwright',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	forbidOnly: true,
	reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
	use: {
		baseURL: `http://127.0.0.1:${port}`,
		launchOptions: {
			executablePath: chromium,
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync'
			]
		},
		trace: 'retain-on-failure'
	},
	webServer: [
		server(port, e2eDatabase, {
			WEBHOOK_URL: `http://127.0.0.1:${webhookReceiverPort}/webhooks`,
			// Public, test-only: `whsec_` + the base64 of 34 fixed bytes.
			WEBHOOK_SECRET: `whsec_${Buffer.from('e2e webhook secret, not a real one').toString('base64')}`
		}),
		server(strictPort, e2eStrictDatabase, {
			CHECK_DISCLOSURE: 'strict',
			CHECK_RATE_LIMIT_PER_IDENTIFIER: '3'
		}),
		server(passkeyPort, e2ePasskeyDatabase, { ORIGIN: `http://localhost:${passkeyPort}` })
	]
});
