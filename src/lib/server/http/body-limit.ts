import { error, type Handle, type RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { extractLocaleFromRequest } from '$lib/paraglide/runtime';
import { apiError } from './api-error';

/**
 * adapter-node's BODY_SIZE_LIMIT is one number for the whole app, and appeals (R19) need it at
 * 20M: without this handle every JSON endpoint would parse 10 MB of nested arrays (seconds of
 * blocked event loop) before its schema said no. Every body is small, except identity documents.
 */

// The largest JSON body: a 1,024-character password and a 320-character identifier, every
// character \u-escaped, is about 8 KB.
const API_BODY_LIMIT = 16 * 1024;
// The largest page form: a 2,000-character decision reason in Chinese, URL-encoded (9 bytes a
// character), is 18 KB.
const PAGE_BODY_LIMIT = 32 * 1024;

/**
 * R19: the routes that receive identity documents. readMultipart bounds them itself
 * (MAX_MULTIPART_BYTES) and answers a form error the person can act on.
 */
const DOCUMENT_UPLOADS: { routeId: string; action?: string }[] = [
	{ routeId: '/api/v1/appeals' },
	{ routeId: '/appeal', action: 'submit' },
	{ routeId: '/appeal/status', action: 'answer' }
];

/** SvelteKit's own rule: the first query parameter whose name starts with `/`, else `default`. */
function actionName(url: URL): string {
	for (const [name] of url.searchParams) if (name.startsWith('/')) return name.slice(1);
	return 'default';
}

function takesDocuments(event: RequestEvent): boolean {
	if (event.request.method !== 'POST') return false;
	return DOCUMENT_UPLOADS.some(
		(upload) =>
			upload.routeId === event.route.id &&
			(upload.action === undefined || upload.action === actionName(event.url))
	);
}

export const isApiPath = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/');

/**
 * Refuses a body over the route's limit: by its Content-Length before anything is read, or while
 * streaming (chunked uploads), so `request.json()` / `formData()` fail after at most `limit` bytes.
 * Whatever the route then answered, the answer is 413.
 */
export const handleBodyLimit: Handle = async ({ event, resolve }) => {
	const { body } = event.request;
	if (!body || takesDocuments(event)) return resolve(event);
	const api = isApiPath(event.url.pathname);
	const limit = api ? API_BODY_LIMIT : PAGE_BODY_LIMIT;
	const declared = event.request.headers.get('content-length');
	if (declared !== null && /^\d{1,15}$/.test(declared)) {
		if (Number(declared) > limit) return tooLarge(event.request, api, limit);
		// Declared within the limit: Node's HTTP parser delivers exactly that many bytes (and refuses
		// a request that also declares Transfer-Encoding), and adapter-node fails a body that runs
		// past it, so the body is already bounded and needs no counting stream (measured in docs/BENCHMARKS.md: that
		// stream was a Request and a ReadableStream on every small POST).
		return resolve(event);
	}

	let cut = false;
	const bounded = boundedStream(body, limit, () => {
		cut = true;
		// An HttpError, so SvelteKit answers a form action with its own 413, not a 500 via handleError.
		return httpError(413, {
			message: tooLargeMessage(event.request, limit),
			code: 'request_too_large'
		});
	});
	event.request = new Request(event.request, { body: bounded, duplex: 'half' } as RequestInit);
	const response = await resolve(event);
	if (!cut) return response;
	// A page's own 413 (error page, or the ActionResult an enhanced form expects) is kept.
	if (!api && response.status === 413) return closingConnection(response);
	await response.body?.cancel().catch(() => {});
	return tooLarge(event.request, api, limit);
};

/** The rest of a cut body is never read: without `close`, the socket would wait for it until Node's timeouts. */
function closingConnection(response: Response): Response {
	const headers = new Headers(response.headers);
	headers.set('connection', 'close');
	return new Response(response.body, {
		status: response.status,
		statusText: response.statusText,
		headers
	});
}

/** `source`, erroring with `onCut()` instead of passing on the chunk that takes it over `limit`. */
function boundedStream(
	source: ReadableStream<Uint8Array>,
	limit: number,
	onCut: () => unknown
): ReadableStream<Uint8Array> {
	const reader = source.getReader();
	let total = 0;
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				const { done, value } = await reader.read();
				if (done) return controller.close();
				total += value.byteLength;
				if (total > limit) {
					controller.error(onCut());
					// Not cancel(): adapter-node's cancel destroys the socket, and our 413 with it.
					// The 413 says `connection: close` instead.
					reader.releaseLock();
					return;
				}
				controller.enqueue(value);
			},
			cancel: (reason) => reader.cancel(reason)
		},
		{ highWaterMark: 0 }
	);
}

function tooLargeMessage(request: Request, limit: number): string {
	return m.error_request_too_large(
		{ max: limit / 1024 },
		{ locale: extractLocaleFromRequest(request) }
	);
}

/** docs/api.md's error for /api, plain text for pages; the connection closes (the rest of the body is unread). */
function tooLarge(request: Request, api: boolean, limit: number): Response {
	const message = tooLargeMessage(request, limit);
	const headers = { connection: 'close' };
	return api
		? apiError(413, 'request_too_large', message, { headers })
		: new Response(message, {
				status: 413,
				headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }
			});
}

/** `error()` is SvelteKit's only public way to make an HttpError, and it throws it. */
function httpError(status: number, body: App.Error): unknown {
	try {
		error(status, body);
	} catch (thrown) {
		return thrown;
	}
}
