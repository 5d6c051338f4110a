import type { Handle, RequestEvent, ResolveOptions } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { chain } from '../../src/lib/server/http/chain';

/** The hooks' own composition keeps what `sequence` promises, without its per-step cost. */
describe('chain (the hooks in order)', () => {
	const event = { url: new URL('http://127.0.0.1/') } as RequestEvent;

	it('runs the steps in order around the route, and a step may answer without the rest', async () => {
		const seen: string[] = [];
		const step =
			(name: string): Handle =>
			async ({ event, resolve }) => {
				seen.push(`${name} in`);
				const response = await resolve(event);
				seen.push(`${name} out`);
				return response;
			};
		const refuse: Handle = () => new Response('refused', { status: 403 });
		const route = async () => {
			seen.push('route');
			return new Response('ok');
		};
		expect(await (await chain(step('a'), step('b'))({ event, resolve: route })).text()).toBe('ok');
		expect(seen).toEqual(['a in', 'b in', 'route', 'b out', 'a out']);
		seen.length = 0;
		const refused = await chain(step('a'), refuse, step('c'))({ event, resolve: route });
		expect(refused.status).toBe(403);
		expect(seen).toEqual(['a in', 'a out']);
	});

	it('merges resolve options as sequence does: the later page transform first, the earlier filter wins', async () => {
		let options: ResolveOptions | undefined;
		const outer: Handle = ({ event, resolve }) =>
			resolve(event, {
				transformPageChunk: ({ html }) => `${html}+outer`,
				filterSerializedResponseHeaders: (name) => name === 'x-outer'
			});
		const inner: Handle = ({ event, resolve }) =>
			resolve(event, {
				transformPageChunk: ({ html }) => `${html}+inner`,
				filterSerializedResponseHeaders: () => false
			});
		await chain(
			outer,
			inner
		)({
			event,
			resolve: async (_, given) => {
				options = given;
				return new Response('');
			}
		});
		expect(await options?.transformPageChunk?.({ html: 'page', done: true })).toBe(
			'page+inner+outer'
		);
		expect(options?.filterSerializedResponseHeaders?.('x-outer', '')).toBe(true);
	});
});
