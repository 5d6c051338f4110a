import type { RequestEvent } from '@sveltejs/kit';
import { getLocale, type Locale } from '$lib/paraglide/runtime';

/** What flows record about the request that drives them (R9 IP country, R10 device, language). */
export interface RequestMeta {
	ip: string;
	ipCountry: string | null;
	deviceId: string;
	locale: Locale;
	userAgent: string | null;
}

export function requestMeta(event: Pick<RequestEvent, 'locals' | 'request'>): RequestMeta {
	return {
		ip: event.locals.clientAddress,
		ipCountry: event.locals.ipCountry,
		deviceId: event.locals.deviceId,
		locale: getLocale(),
		userAgent: event.request.headers.get('user-agent')
	};
}
