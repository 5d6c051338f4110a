import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { createHandleError } from '../../src/lib/server/http/handle';
import { load as serverErrorLoad } from '../../src/routes/api/test/server-error/+page.server';
import { testAppContext } from '../support/app-context';
import { testDatabases } from '../support/databases';
import { handle, hookEvent, type Resolve } from '../support/hooks';

/**
 * The error page names a server error's request id (§9): handleError puts the id of the
 * request's log line (`x-request-id`) into the error, and only for 5xx.
 */
const failing: Resolve = () => {
	throw new Error('a bug in a load');
};

describe('error page request id', () => {
	it('a 500 through the real hooks carries the x-request-id of its log line', async () => {
		const event = hookEvent('/somewhere', {
			method: 'GET',
			headers: { accept: 'application/json' }
		});
		const response = await handle({ event, resolve: failing });
		expect(response.status).toBe(500);
		const requestId = response.headers.get('x-request-id');
		expect(requestId).toMatch(/^[\w-]{36}$/);
		expect(await response.json()).toEqual({
			message: 'Internal Error',
			code: 'internal_error',
			requestId
		});
	});

	it('a 404 (SvelteKit hands unknown paths to handleError too) names no request id', async () => {
		const database = await testDatabases[0]!.open();
		try {
			const app = testAppContext(database);
			const event = { locals: { app, requestId: 'req-404' }, route: { id: null } };
			const body = await createHandleError(() => app)({
				error: new Error('Not found: /nowhere'),
				event: event as unknown as RequestEvent,
				status: 404,
				message: 'Not Found'
			});
			expect(body).toEqual({ message: 'Not Found', code: 'error' });
		} finally {
			await database.dispose();
		}
	});

	it('the test hook that fails on purpose is a plain 404 without APP_TEST_HOOKS=1', async () => {
		const database = await testDatabases[0]!.open();
		try {
			const app = testAppContext(database);
			const event = { locals: { app } } as unknown as Parameters<typeof serverErrorLoad>[0];
			expect(() => serverErrorLoad(event)).toThrow(expect.objectContaining({ status: 404 }));
		} finally {
			await database.dispose();
		}
	});
});
