import type { RequestEvent } from '@sveltejs/kit';
import { type Viewer, checkGrantCovers } from '../check';

/** R15a: the viewer is proven for an identifier when signed in as its owner or holding a grant. */
export function checkViewer(event: Pick<RequestEvent, 'locals' | 'cookies'>): Viewer {
	const { locals, cookies } = event;
	return {
		requestCountry: locals.ipCountry,
		deviceId: locals.deviceId,
		address: locals.clientAddress,
		signedInAccountId: locals.account?.id ?? null,
		proven: (identifier, account) =>
			(account !== undefined && locals.account?.id === account.id) ||
			checkGrantCovers(locals.app, cookies, identifier.value, locals.deviceId)
	};
}
