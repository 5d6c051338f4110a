import { paraglideVitePlugin } from '@inlang/paraglide-js';
import { sveltekit } from '@sveltejs/kit/vite';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [
		sveltekit(),
		// Locale: the remembered choice (cookie), else Accept-Language, else English.
		paraglideVitePlugin({
			project: './project.inlang',
			outdir: './src/lib/paraglide',
			strategy: ['cookie', 'preferredLanguage', 'baseLocale']
		})
	],
	test: {
		expect: { requireAssertions: true },
		reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
		projects: [
			{
				extends: './vite.config.ts',
				test: {
					name: 'server',
					environment: 'node',
					include: ['tests/server/**/*.test.ts'],
					setupFiles: ['tests/server/setup.ts'],
					// Migrations and argon2 make the first test of a file slow on 2 cores.
					testTimeout: 20_000,
					hookTimeout: 30_000
				}
			},
			{
				extends: './vite.config.ts',
				plugins: [svelteTesting()],
				test: {
					name: 'component',
					environment: 'jsdom',
					include: ['tests/component/**/*.svelte.test.ts'],
					setupFiles: ['tests/component/setup.ts']
				}
			}
		]
	}
});
