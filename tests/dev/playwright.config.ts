import { defineConfig } from '@playwright/test';

/**
 * Issue 24's proofs against the development server itself (`vite dev`), not the built app, so
 * outside `npm test` (a cold `vite dev` takes half a minute on a busy machine):
 *
 *   DEV_PORT=5173 npx playwright test -c tests/dev/playwright.config.ts              # npm run dev
 *   DEV_MOCK=1 DEV_PORT=5173 npx playwright test -c tests/dev/playwright.config.ts   # npm run dev:mock
 *
 * The server runs on its own SQLite file (test-results/dev-server.db), never ./data/app.db.
 */
const mock = process.env.DEV_MOCK === '1';
const port = Number(process.env.DEV_PORT ?? 5173);
export const devDatabase = 'test-results/dev-server.db';

export default defineConfig({
	testDir: '.',
	testMatch: mock ? 'dev-mock.spec.ts' : 'dev-passkey.spec.ts',
	outputDir: '../../test-results/playwright-dev',
	workers: 1,
	retries: 0,
	forbidOnly: true,
	timeout: 120_000,
	use: {
		baseURL: `http://localhost:${port}`,
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: ['--headless', '--no-sandbox', '--disable-gpu']
		}
	},
	webServer: {
		command: `rm -f ${devDatabase} ${devDatabase}-wal ${devDatabase}-shm && npx vite dev --port ${port} --strictPort`,
		cwd: '../..',
		url: `http://localhost:${port}/healthz`,
		reuseExistingServer: false,
		timeout: 180_000,
		env: {
			DATABASE_URL: `file:${devDatabase}`,
			...(mock ? { VITE_API_MOCKS: '1' } : {})
		}
	}
});
