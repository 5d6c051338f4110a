import type { RequestEvent, ResolveOptions } from '@sveltejs/kit';
import { handle as hooksHandle } from '../../src/hooks.server';
import { cookiesFrom } from './endpoints';

/** The origin the hook tests' requests come to. */
export const HOOK_ORIGIN = 'http://127.0.0.1:4300';

export type Resolve = (event: RequestEvent, opts?: ResolveOptions) => Response | Promise<Response>;

// `sequence` reads SvelteKit's per-request store; its runtime sets it with this (untyped) export.
// @ts-expect-error -- SvelteKit ships no types for this internal module.
const { with_request_store } = (await import('@sveltejs/kit/internal/server')) as unknown as {
	with_request_store: <T>(store: unknown, fn: () => T) => T;
};
const tracing = { record_span: ({ fn }: { fn: (span: object) => unknown }) => fn({}) };

/** The real `handle` of hooks.server.ts, called the way SvelteKit's server calls it. */
export const handle = ({ event, resolve }: { event: RequestEvent; resolve: Resolve }) =>
	with_request_store({ event, state: { tracing } }, () => hooksHandle({ event, resolve }));

/** A request event as SvelteKit builds it before the hooks run (`locals` still empty). */
export function hookEvent(path: string, init: { method?: string; headers?: Record<string, string>; body?: BodyInit }, routeId: string | null = null): RequestEvent {
	const url = new URL(path, HOOK_ORIGIN);
	const request = new Request(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body, duplex: 'half' } as RequestInit);
	const cookies = cookiesFrom(new Map());
	return { url, request, route: { id: routeId }, params: {}, locals: {}, cookies, getClientAddress: () => '127.0.0.1', setHeaders: () => {}, fetch } as unknown as RequestEvent;
}
