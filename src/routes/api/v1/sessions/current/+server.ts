import { endSession } from '$lib/server/http/session-cookie';
import type { RequestHandler } from './$types';

export const DELETE: RequestHandler = async (event) => {
	await endSession(event);
	return new Response(null, { status: 204 });
};
