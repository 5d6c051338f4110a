import adapter from '@sveltejs/adapter-node';

// The benchmark's baseline: SvelteKit's defaults with adapter-node, as `npx sv create` makes them,
// built from the repository's node_modules. No hooks, no CSP, no i18n: the framework alone.
/** @type {import('@sveltejs/kit').Config} */
const config = { kit: { adapter: adapter() } };

export default config;
