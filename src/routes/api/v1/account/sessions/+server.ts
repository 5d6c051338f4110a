import { json } from '@sveltejs/kit';
import { listAccountSessions, revokeOtherSessions } from '$lib/server/accounts';
import { failures } from '$lib/server/core/failures';
import { requestMeta } from '$lib/server/http/request-meta';
import { failureResponse } from '$lib/server/http/api-error';
import type { RequestHandler } from './$types';
import type { SessionList } from '$lib/schemas/responses';

/** API (docs/api.md): the owner's live sessions; ids are opaque, never the token or its hash. */
export const GET: RequestHandler = async (event) => {
	const { account, session } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	const sessions = await listAccountSessions(event.locals.app, account, {
		sessionId: session?.id ?? null,
		locale: requestMeta(event).locale
	});
	return json({ sessions } satisfies SessionList, { headers: { 'cache-control': 'no-store' } });
};

/** Signs out every session of the account but this one. */
export const DELETE: RequestHandler = async (event) => {
	const { account, session } = event.locals;
	if (!account) return failureResponse(failures.unauthenticated());
	await revokeOtherSessions(event.locals.app, account, {
		...requestMeta(event),
		sessionId: session?.id ?? null
	});
	return new Response(null, { status: 204 });
};
