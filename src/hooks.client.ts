import type { ClientInit } from '@sveltejs/kit';

/**
 * `npm run dev:mock`: the check page's `/api/v1` calls are answered by MSW's handlers
 * (tests/mocks/browser.ts) instead of the server. The worker starts here, before the page hydrates,
 * so the first submit the page itself handles already reaches it (an earlier, native one is held
 * back by vite.config.ts). The condition is replaced at build time, so production bundles carry
 * none of it.
 */
export const init: ClientInit = async () => {
	if (import.meta.env.DEV && import.meta.env.VITE_API_MOCKS === '1') {
		const { worker } = await import('../tests/mocks/browser');
		await worker.start({ onUnhandledRequest: 'bypass', quiet: false });
	}
};
