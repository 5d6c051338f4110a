import type { RequestEvent } from '@sveltejs/kit';
import type { Viewer } from '../check';
import { holdsCheckGrant } from './check-grant-cookie';

/** R15a: the viewer is proven for an identifier when signed in as its owner or holding a grant. */
export function checkViewer(event: Pick<RequestEvent, 'locals' | 'cookies'>): Viewer {
	const { locals } = event;
	return {
		requestCountry: locals.ipCountry,
		deviceId: locals.deviceId,
		address: locals.clientAddress,
		signedInAccountId: locals.account?.id ?? null,
		proven: (identifier, account) =>
			(account !== undefined && locals.account?.id === account.id) ||
			holdsCheckGrant(event, identifier.value)
	};
}
