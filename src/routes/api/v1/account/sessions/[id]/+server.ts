import { revokeAccountSession } from '$lib/server/accounts';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse } from '$lib/server/http/api-error';
import { endSession } from '$lib/server/http/session-cookie';
import type { RequestHandler } from './$types';

/** Signs out one session of the account: 404 `not_found` for an id that is not one of its own. */
export const DELETE: RequestHandler = async (event) => {
	const { account, session } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const result = await revokeAccountSession(event.locals.app, account, event.params.id, {
		...requestMeta(event),
		sessionId: session?.id ?? null
	});
	if (!result.ok) return failureResponse(result);
	// Signing out this very session: its cookie goes too.
	if (result.current) await endSession(event);
	return new Response(null, { status: 204 });
};
