import { describe, expect, it } from 'vitest';
import { POST as registrations } from '../../src/routes/api/v1/registrations/+server';
import { handle, HOOK_ORIGIN, hookEvent, type Resolve } from '../support/hooks';

/**
 * Defence in depth for the JSON API: a state-changing request that a browser sent from another
 * site is refused before any route runs. Requests through the whole `handle` of hooks.server.ts.
 */
const ORIGIN = HOOK_ORIGIN;

function apiEvent(method: string, path: string, headers: Record<string, string>, json?: unknown) {
	const body = json === undefined ? undefined : JSON.stringify(json);
	return hookEvent(
		path,
		{
			method,
			headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
			body
		},
		path
	);
}

/** Step 1 of registration (R8), counting whether the route ran at all. */
function registrationRoute() {
	const ran = { times: 0 };
	const resolve: Resolve = (event) => {
		ran.times++;
		return registrations(event as Parameters<typeof registrations>[0]);
	};
	return { ran, resolve };
}
let registered = 0;
const registration = () => ({
	identifier: `origin-${++registered}@example.com`,
	password: 'a long and quiet river',
	country: 'CN'
});

describe('foreign Origin on state-changing /api requests', () => {
	it('POST /api/v1/registrations with Origin: https://evil.example answers 403 forbidden_origin and the route never runs (R8)', async () => {
		const { ran, resolve } = registrationRoute();
		const event = apiEvent(
			'POST',
			'/api/v1/registrations',
			{ origin: 'https://evil.example', 'accept-language': 'zh-CN' },
			registration()
		);
		const response = await handle({ event, resolve });
		expect(response.status).toBe(403);
		const { error } = (await response.json()) as { error: { code: string; message: string } };
		expect(error.code).toBe('forbidden_origin');
		// API (docs/api.md): the message in the request's language.
		expect(error.message).toMatch(/[\u4e00-\u9fff]/);
		expect(ran.times).toBe(0);
	});

	it.each([
		['Origin: null (sandboxed frame, data: URL)', { origin: 'null' }],
		['a sibling origin (other port)', { origin: 'http://127.0.0.1:4301' }],
		['the same host over https', { origin: 'https://127.0.0.1:4300' }],
		['Sec-Fetch-Site: cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
		[
			'our Origin but Sec-Fetch-Site: cross-site',
			{ origin: ORIGIN, 'sec-fetch-site': 'cross-site' }
		]
	])('%s is refused with 403', async (_, headers) => {
		const { ran, resolve } = registrationRoute();
		const response = await handle({
			event: apiEvent('POST', '/api/v1/registrations', headers, registration()),
			resolve
		});
		expect(response.status).toBe(403);
		expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
			'forbidden_origin'
		);
		expect(ran.times).toBe(0);
	});

	it.each(['PUT', 'PATCH', 'DELETE'])('%s from a foreign Origin is refused too', async (method) => {
		const { ran, resolve } = registrationRoute();
		const response = await handle({
			event: apiEvent(method, '/api/v1/sessions/current', { origin: 'https://evil.example' }),
			resolve
		});
		expect(response.status).toBe(403);
		expect(ran.times).toBe(0);
	});

	it.each([
		[
			'our own Origin (the page’s live updates)',
			{ origin: ORIGIN, 'sec-fetch-site': 'same-origin' }
		],
		['no Origin at all (native apps, the order system, curl)', {}]
	])('%s passes: 202 and the code is sent', async (_, headers) => {
		const { ran, resolve } = registrationRoute();
		const response = await handle({
			event: apiEvent('POST', '/api/v1/registrations', headers, registration()),
			resolve
		});
		expect(response.status).toBe(202);
		expect(ran.times).toBe(1);
	});

	it('reads (GET, HEAD, OPTIONS) from any Origin are not refused: they change nothing', async () => {
		for (const method of ['GET', 'HEAD', 'OPTIONS']) {
			const response = await handle({
				event: apiEvent(method, '/api/v1/account', {
					origin: 'https://evil.example',
					'sec-fetch-site': 'cross-site'
				}),
				resolve: () => new Response(null, { status: 204 })
			});
			expect(response.status).toBe(204);
		}
	});
});
