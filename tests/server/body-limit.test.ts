import { describe, expect, it } from 'vitest';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { handle, hookEvent, type Resolve } from '../support/hooks';

/**
 * The issue: BODY_SIZE_LIMIT=20M (what appeals need) applied to every route, and 10 MB of nested
 * JSON cost 1.4 s of event loop. These requests go through the whole `handle` sequence of
 * hooks.server.ts; `resolve` stands in for the route.
 */
const API_LIMIT = 16 * 1024;
const PAGE_LIMIT = 32 * 1024;

/** `size` bytes of `[[[…` in 64 KB chunks, made only as they are read: a chunked upload. */
function nestedJsonStream(size: number) {
	const chunk = new TextEncoder().encode('['.repeat(64 * 1024));
	const source = { pulled: 0 };
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (source.pulled >= size) return controller.close();
			source.pulled += chunk.byteLength;
			controller.enqueue(chunk);
		}
	});
	return { stream, source };
}

/** A route that reads the whole body, counting what reaches it; its own failure is a 500. */
function countingRoute() {
	const seen = { bytes: 0, called: false };
	const resolve: Resolve = async (event) => {
		seen.called = true;
		try {
			const reader = event.request.body!.getReader();
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				seen.bytes += value.byteLength;
			}
			return new Response('read it all');
		} catch {
			return new Response('Internal Error', { status: 500 });
		}
	};
	return { seen, resolve };
}

async function errorOf(response: Response) {
	return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('body limit on every route but the document uploads', () => {
	it('a JSON body declared over 16 KB answers 413 request_too_large before the route reads anything', async () => {
		const { seen, resolve } = countingRoute();
		const body = JSON.stringify({ identifier: 'a'.repeat(API_LIMIT) });
		const event = hookEvent(
			'/api/v1/check',
			{
				headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
				body
			},
			'/api/v1/check'
		);
		const response = await handle({ event, resolve });
		expect(response.status).toBe(413);
		expect(await errorOf(response)).toMatchObject({
			code: 'request_too_large',
			message: expect.stringContaining('16 KB')
		});
		expect(seen.called).toBe(false);
	});

	it('a 10 MB nested JSON body without Content-Length is cut at 16 KB while streaming: 413 at once, the route never sees more', async () => {
		const { stream, source } = nestedJsonStream(10 * 1024 * 1024);
		const { seen, resolve } = countingRoute();
		const event = hookEvent(
			'/api/v1/check',
			{ headers: { 'content-type': 'application/json' }, body: stream },
			'/api/v1/check'
		);
		const started = performance.now();
		const response = await handle({ event, resolve });
		const ms = performance.now() - started;
		expect(response.status).toBe(413);
		expect((await errorOf(response)).code).toBe('request_too_large');
		expect(seen.bytes).toBeLessThanOrEqual(API_LIMIT);
		// Read from the network: the limit plus at most the chunks already buffered, never the 10 MB.
		expect(source.pulled).toBeLessThanOrEqual(API_LIMIT + 3 * 64 * 1024);
		expect(ms).toBeLessThan(500);
	});

	it('the real /api/v1/check endpoint, given that body, answers 413 JSON (not its 400 invalid_json after parsing it all)', async () => {
		const { stream } = nestedJsonStream(10 * 1024 * 1024);
		const event = hookEvent(
			'/api/v1/check',
			{ headers: { 'content-type': 'application/json', 'accept-language': 'zh-CN' }, body: stream },
			'/api/v1/check'
		);
		const started = performance.now();
		const response = await handle({
			event,
			resolve: (e) => check(e as Parameters<typeof check>[0])
		});
		const ms = performance.now() - started;
		expect(response.status).toBe(413);
		const error = await errorOf(response);
		expect(error.code).toBe('request_too_large');
		// API (docs/api.md): the message in the request's language.
		expect(error.message).toMatch(/[\u4e00-\u9fff]/);
		expect(ms).toBeLessThan(500);
	});

	it('a small JSON body reaches the endpoint whole and is answered as before', async () => {
		const body = JSON.stringify({ identifier: 'someone@example.com' });
		const event = hookEvent(
			'/api/v1/check',
			{ headers: { 'content-type': 'application/json' }, body },
			'/api/v1/check'
		);
		const response = await handle({
			event,
			resolve: (e) => check(e as Parameters<typeof check>[0])
		});
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ registered: false });
	});

	it('a page form post over the page limit is a plain 413, also when the route turned the cut into a 500', async () => {
		const declared = hookEvent(
			'/login',
			{
				headers: {
					'content-type': 'application/x-www-form-urlencoded',
					'content-length': String(PAGE_LIMIT + 1)
				},
				body: 'x'.repeat(PAGE_LIMIT + 1)
			},
			'/login'
		);
		const first = await handle({ event: declared, resolve: countingRoute().resolve });
		expect(first.status).toBe(413);
		expect(first.headers.get('content-type')).toMatch(/^text\/plain/);

		const { stream } = nestedJsonStream(1024 * 1024);
		const { seen, resolve } = countingRoute();
		const chunked = hookEvent(
			'/login?/signIn',
			{ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: stream },
			'/login'
		);
		const second = await handle({ event: chunked, resolve });
		expect(second.status).toBe(413);
		expect(second.headers.get('content-type')).toMatch(/^text\/plain/);
		expect(seen.bytes).toBeLessThanOrEqual(PAGE_LIMIT);
	});

	it('a page’s own 413 for the cut (SvelteKit’s error page or ActionResult) is kept; every cut answer closes the connection', async () => {
		const { stream } = nestedJsonStream(1024 * 1024);
		const event = hookEvent(
			'/?/check',
			{ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: stream },
			'/'
		);
		const response = await handle({
			event,
			// What SvelteKit does when an action's formData() fails with the HttpError of the cut.
			resolve: async (e) => {
				const failure = await e.request.formData().then(
					() => null,
					(thrown: { status?: number; body?: App.Error }) => thrown
				);
				return Response.json(
					{ type: 'error', error: failure?.body },
					{ status: failure?.status ?? 200 }
				);
			}
		});
		expect(response.status).toBe(413);
		expect(await response.json()).toEqual({
			type: 'error',
			error: { code: 'request_too_large', message: expect.stringContaining('32 KB') }
		});
		expect(response.headers.get('connection')).toBe('close');

		const api = hookEvent(
			'/api/v1/check',
			{
				headers: { 'content-type': 'application/json' },
				body: nestedJsonStream(1024 * 1024).stream
			},
			'/api/v1/check'
		);
		expect(
			(await handle({ event: api, resolve: countingRoute().resolve })).headers.get('connection')
		).toBe('close');
	});

	it('a support agent’s longest reason (2,000 Chinese characters, URL-encoded: 18 KB) still fits the page limit', async () => {
		const body = new URLSearchParams({ reason: '证'.repeat(2000) }).toString();
		expect(body.length).toBeGreaterThan(API_LIMIT);
		const { seen, resolve } = countingRoute();
		const event = hookEvent(
			'/support/appeals/1?/reject',
			{ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
			'/support/appeals/[id]'
		);
		const response = await handle({ event, resolve });
		expect(response.status).toBe(200);
		expect(seen.bytes).toBe(body.length);
	});

	it.each([
		['/api/v1/appeals', '/api/v1/appeals'],
		['/appeal?/submit', '/appeal'],
		['/appeal/status?/answer', '/appeal/status']
	])(
		'R19: %s, which carries identity documents, keeps the large limit (1 MB passes whole)',
		async (path, routeId) => {
			const { stream } = nestedJsonStream(1024 * 1024);
			const { seen, resolve } = countingRoute();
			const event = hookEvent(
				path,
				{ headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: stream },
				routeId
			);
			const response = await handle({ event, resolve });
			expect(response.status).toBe(200);
			expect(seen.bytes).toBe(1024 * 1024);
		}
	);

	it.each([
		['/appeal?/sendCode', '/appeal'],
		['/appeal/status?/open', '/appeal/status'],
		['/appeal/status', '/appeal/status']
	])('the appeal pages’ text-only actions (%s) get the small limit', async (path, routeId) => {
		const { stream } = nestedJsonStream(1024 * 1024);
		const { seen, resolve } = countingRoute();
		const event = hookEvent(
			path,
			{ headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: stream },
			routeId
		);
		const response = await handle({ event, resolve });
		expect(response.status).toBe(413);
		expect(seen.bytes).toBeLessThanOrEqual(PAGE_LIMIT);
	});
});
