import type { Handle, RequestEvent, ResolveOptions } from '@sveltejs/kit';

type MaybePromise<T> = T | Promise<T>;

/**
 * The handles in order, each one's `resolve` calling the next: what SvelteKit's `sequence` does,
 * without what `sequence` adds to every step of every request: a tracing span (we trace
 * nothing), a request-store scope (no hook calls `getRequestEvent`) and an async page-chunk
 * wrapper (only the locale step transforms pages). With eight steps that was a third of a no-op
 * request's own cost (docs/BENCHMARKS.md). Options merge as in `sequence`: a later step's page
 * transform runs first, an earlier step's header filter and preload win.
 */
export function chain(...handles: Handle[]): Handle {
	return ({ event, resolve }) => {
		const step = (
			i: number,
			event: RequestEvent,
			options: ResolveOptions | undefined
		): MaybePromise<Response> => {
			const handle = handles[i];
			if (!handle) return resolve(event, options);
			return handle({
				event,
				resolve: (next, inner) => step(i + 1, next, merge(options, inner))
			});
		};
		return step(0, event, undefined);
	};
}

function merge(
	outer: ResolveOptions | undefined,
	inner: ResolveOptions | undefined
): ResolveOptions | undefined {
	if (!outer) return inner;
	if (!inner) return outer;
	const first = inner.transformPageChunk;
	const then = outer.transformPageChunk;
	return {
		transformPageChunk:
			first && then
				? async (input) => then({ ...input, html: (await first(input)) ?? '' })
				: (first ?? then),
		filterSerializedResponseHeaders:
			outer.filterSerializedResponseHeaders ?? inner.filterSerializedResponseHeaders,
		preload: outer.preload ?? inner.preload
	};
}
