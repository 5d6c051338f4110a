import { paraglideVitePlugin } from '@inlang/paraglide-js';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: real processes failing for real (a private PostgreSQL
 * cluster restarted, SMTP and SMS gateways down, a child process killed with SIGKILL). Slow and
 * one file at a time, so kept out of `npm run test:unit`.
 */
export default defineConfig({
	plugins: [
		sveltekit(),
		paraglideVitePlugin({
			project: './project.inlang',
			outdir: './src/lib/paraglide',
			strategy: ['cookie', 'preferredLanguage', 'baseLocale']
		})
	],
	test: {
		name: 'faults',
		environment: 'node',
		include: ['tests/faults/**/*.test.ts'],
		setupFiles: ['tests/server/setup.ts'],
		expect: { requireAssertions: true },
		reporters: ['default', ['json', { outputFile: 'test-results/vitest-faults.json' }]],
		fileParallelism: false,
		testTimeout: 90_000,
		hookTimeout: 60_000
	}
});
