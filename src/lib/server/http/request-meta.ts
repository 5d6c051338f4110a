import type { RequestEvent } from '@sveltejs/kit';
import { getLocale } from '$lib/paraglide/runtime';
import type { RequestMeta } from '../core/request-meta';

/** What a flow records about the request that drives it (R9 IP country, R10 device, language). */
export function requestMeta(event: Pick<RequestEvent, 'locals' | 'request'>): RequestMeta {
	return {
		ip: event.locals.clientAddress,
		ipCountry: event.locals.ipCountry,
		deviceId: event.locals.deviceId,
		locale: getLocale(),
		userAgent: event.request.headers.get('user-agent')
	};
}
