import '@testing-library/jest-dom/vitest';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { server } from '../mocks/node';

// Browsers resolve `fetch('/api/…')` against the page; Node's fetch in jsdom does not.
const nodeFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
	nodeFetch(
		typeof input === 'string' && input.startsWith('/')
			? new URL(input, window.location.href)
			: input,
		init
	);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
