import { json } from '@sveltejs/kit';
import type { CodeSent } from '$lib/schemas/responses';
import type { Failure } from '../core/failures';
import { failureResponse } from './api-error';

/**
 * The API's answer to "send a code" (R6, docs/api.md): 202 with when the code expires and when
 * another may be asked for, or the failure's error body.
 */
export function codeSentResponse(
	result: Failure | { ok: true; expiresAt: Date; resendAfter: Date }
): Response {
	if (!result.ok) return failureResponse(result);
	return json(
		{
			expiresAt: result.expiresAt.toISOString(),
			resendAfter: result.resendAfter.toISOString()
		} satisfies CodeSent,
		{ status: 202 }
	);
}
