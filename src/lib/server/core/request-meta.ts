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

/** A coarse "Browser on OS" for the owner's security activity; never the whole user agent. */
export function deviceLabel(userAgent: string | null): string | null {
	if (!userAgent) return null;
	const browser = /Edg\//.test(userAgent)
		? 'Edge'
		: /Firefox\//.test(userAgent)
			? 'Firefox'
			: /Chrom(e|ium)\//.test(userAgent)
				? 'Chrome'
				: /Safari\//.test(userAgent)
					? 'Safari'
					: null;
	const os = /Android/.test(userAgent)
		? 'Android'
		: /iPhone|iPad/.test(userAgent)
			? 'iOS'
			: /Windows/.test(userAgent)
				? 'Windows'
				: /Mac OS X/.test(userAgent)
					? 'macOS'
					: /Linux/.test(userAgent)
						? 'Linux'
						: null;
	return browser && os ? `${browser} · ${os}` : (browser ?? os);
}
