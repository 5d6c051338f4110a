import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { apiError, fieldErrors, readJsonObject } from '$lib/server/http/api-error';
import { requireTestHooks } from '$lib/server/http/test-hooks';
import type { RequestHandler } from './$types';

const clockInput = z.union([
	z.strictObject({
		advanceMs: z
			.number()
			.int()
			.min(0)
			.max(10 * 365 * 86_400_000)
	}),
	z.strictObject({ now: z.iso.datetime({ offset: true }) })
]);

export const POST: RequestHandler = async ({ request, locals }) => {
	const { clock } = requireTestHooks(locals.app);
	const body = await readJsonObject(request);
	if (!body.ok) return body.response;
	const input = clockInput.safeParse(body.value);
	if (!input.success) {
		return apiError(400, 'invalid_request', 'Send {"advanceMs": n} or {"now": iso}.', {
			fields: fieldErrors(input.error)
		});
	}
	const now =
		'advanceMs' in input.data
			? clock.advance(input.data.advanceMs)
			: clock.set(new Date(input.data.now));
	return json({ now: now.toISOString() });
};
