import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/database';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { load as accountPage } from '../../src/routes/account/+page.server';
import { load as supportQueue } from '../../src/routes/support/+page.server';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';

/**
 * docs/api.md §2: a database that does not answer is `503 unavailable` with `Retry-After: 5`, also
 * when it fails in the hooks, before any route: reading the buyer's session (any path) or the
 * support session (/support). SvelteKit answers an error thrown by a hook itself, past every
 * hook, so without the hooks' own mapping it was a plain `500`.
 */
describe('§2: a database that does not answer, with a session cookie', () => {
	// Nothing listens on port 1: every query fails to connect (as in openapi-contract.test.ts).
	const target = {
		kind: 'postgres',
		url: 'postgres://asc@127.0.0.1:1/none',
		schema: 'none',
		poolSize: 1
	} as const;
	const closed = { ...openDatabase(target), target, dispose: async () => {} };
	const down = testAppContext(closed);
	afterAll(() => closed.close());

	const expectUnavailable = (response: Response) => {
		expect(response.status).toBe(503);
		expect(response.headers.get('retry-after')).toBe('5');
		expect(response.headers.get('cache-control')).toBe('no-store');
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
		expect(response.headers.get('x-request-id')).toBeTruthy();
		// An outage signs no one out: the session cookies are left as they are.
		expect(response.headers.getSetCookie().join()).not.toMatch(/session=/);
	};

	it('§2: /api with a session cookie answers 503 unavailable as JSON, not 500', async () => {
		const response = await callEndpoint(account, down, {
			method: 'GET',
			path: '/api/v1/account',
			headers: { accept: 'application/json', cookie: `session=${'a'.repeat(32)}` }
		});
		expectUnavailable(response);
		expect(await response.json()).toEqual({
			error: { code: 'unavailable', message: expect.stringMatching(/unavailable/i) }
		});
	});

	it('§2: a page with a session cookie answers 503 with the message in the reader’s language', async () => {
		const response = (await callEndpoint(accountPage as never, down, {
			method: 'GET',
			path: '/account',
			headers: {
				accept: 'text/html',
				'accept-language': 'zh-CN',
				cookie: `session=${'a'.repeat(32)}`
			}
		})) as Response;
		expectUnavailable(response);
		const text = await response.text();
		expect(text).toMatch(/[\u4e00-\u9fff]/);
		expect(text).not.toMatch(/Internal Error/);
	});

	it('§2, R22: the support console with its session cookie answers 503, not 500', async () => {
		const response = (await callEndpoint(supportQueue as never, down, {
			method: 'GET',
			path: '/support',
			headers: { accept: 'text/html', cookie: `support_session=${'a'.repeat(32)}` }
		})) as Response;
		expectUnavailable(response);
	});
});
