import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: {
		runes: true,
		// No `window.__svelte.v` version stamp: one chunk and an import less in every page's JS.
		discloseVersion: false
	},
	kit: {
		adapter: adapter(),
		// The server resolves each client-side navigation's route: the browser never downloads the
		// manifest of every route and the loaders of every page (docs/BENCHMARKS.md, initial JS).
		router: { resolution: 'server' },
		// Nonces for server-rendered pages: no inline script runs without one (no 'unsafe-inline').
		csp: {
			mode: 'auto',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				// SvelteKit's route announcer carries an inline style attribute; scripts stay strict.
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:'],
				'font-src': ['self'],
				'connect-src': ['self'],
				'worker-src': ['self'],
				'form-action': ['self'],
				'frame-ancestors': ['none'],
				'base-uri': ['none'],
				'object-src': ['none']
			}
		}
	}
};

export default config;
