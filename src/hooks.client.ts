import type { ClientInit } from '@sveltejs/kit';

/**
 * `npm run dev:mock`: the UI talks to MSW's handlers (tests/mocks) instead of the API, for work
 * without a backend. The condition is replaced at build time, so production bundles carry none of it.
 */
export const init: ClientInit = async () => {
	if (import.meta.env.DEV && import.meta.env.VITE_API_MOCKS === '1') {
		const { worker } = await import('../tests/mocks/browser');
		await worker.start({ onUnhandledRequest: 'bypass', quiet: false });
	}
};
