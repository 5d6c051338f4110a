import { paraglideVitePlugin } from '@inlang/paraglide-js';
import { sveltekit } from '@sveltejs/kit/vite';
import { svelteTesting } from '@testing-library/svelte/vite';
import { isIP } from 'node:net';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run dev`: ORIGIN from Vite's own address when none is set, as `npm start` does with its
 * port. Passkeys take their relying party from ORIGIN (503 `passkeys_unavailable` without it) and
 * links in messages are absolute on it. WebAuthn refuses an IP address as the relying party id,
 * so a `localhost` address wins over `127.0.0.1`. The server reads ORIGIN at its first request,
 * which comes after Vite listens.
 */
function devOrigin(): Plugin {
	return {
		name: 'asc-dev-origin',
		apply: 'serve',
		configureServer(server) {
			if (process.env.ORIGIN) return;
			server.httpServer?.once('listening', () => {
				const urls = (server.resolvedUrls?.local ?? []).map((url) => new URL(url));
				const named = urls.find((url) => isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0);
				const port = urls[0]?.port ?? String(server.config.server.port);
				process.env.ORIGIN = named?.origin ?? `http://localhost:${port}`;
			});
		}
	};
}

/**
 * `npm run dev:mock` (VITE_API_MOCKS=1): the check page's forms reach the mocks only as the
 * hydrated page's `fetch`. A native post of them (sent before the page finished loading) would run
 * the real check against the development database, so it is answered 204 No Content: the browser
 * stays on the page with what was typed, and the next submit, once loaded, goes to the mocks.
 */
function mockedCheckForms(): Plugin {
	return {
		name: 'asc-dev-mock-check-forms',
		apply: 'serve',
		configureServer(server) {
			if (process.env.VITE_API_MOCKS !== '1') return;
			server.middlewares.use((req, res, next) => {
				const url = new URL(req.url ?? '/', 'http://localhost');
				const action = url.search.startsWith('?/');
				if (req.method !== 'POST' || url.pathname !== '/' || !action) return next();
				if (req.headers['x-sveltekit-action']) return next();
				res.statusCode = 204;
				res.end();
			});
		}
	};
}

export default defineConfig({
	plugins: [
		devOrigin(),
		mockedCheckForms(),
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
