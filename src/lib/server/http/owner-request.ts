import type { RequestEvent } from '@sveltejs/kit';
import type { z } from 'zod';
import type { Account } from '../db/schema';
import { failures } from '../core/failures';
import { failureResponse, parseJsonBody } from './api-error';

/** An owner-only API request: `401 unauthenticated` without a session, else its parsed body. */
export async function ownerBody<T>(
	event: Pick<RequestEvent, 'locals' | 'request'>,
	schema: z.ZodType<T>
): Promise<{ ok: true; account: Account; data: T } | { ok: false; response: Response }> {
	const { account } = event.locals;
	if (!account) return { ok: false, response: failureResponse(failures.unauthenticated()) };
	const body = await parseJsonBody(event.request, schema);
	return body.ok ? { ok: true, account, data: body.data } : body;
}
