import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';

/** What flows record about the request that drives them (R9 IP country, R10 device, language). */
export interface RequestMeta {
	ip: string;
	ipCountry: string | null;
	deviceId: string;
	locale: Locale;
	userAgent: string | null;
}

const BROWSERS: [RegExp, string][] = [
	[/MicroMessenger\//, 'WeChat'],
	[/Edg(A|iOS)?\//, 'Edge'],
	[/OPR\//, 'Opera'],
	[/SamsungBrowser\//, 'Samsung Internet'],
	[/Firefox\/|FxiOS\//, 'Firefox'],
	[/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
	[/Safari\//, 'Safari']
];
const SYSTEMS: [RegExp, string][] = [
	[/HarmonyOS/, 'HarmonyOS'],
	[/Android/, 'Android'],
	[/iPhone|iPad/, 'iOS'],
	[/Windows/, 'Windows'],
	[/Mac OS X/, 'macOS'],
	[/CrOS/, 'ChromeOS'],
	[/Linux/, 'Linux']
];
const first = (list: [RegExp, string][], userAgent: string) =>
	list.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null;

/** Browser and OS names read from a user agent (never the whole string); null when unknown. */
function deviceParts(userAgent: string | null): {
	browser: string | null;
	os: string | null;
} {
	if (!userAgent) return { browser: null, os: null };
	return { browser: first(BROWSERS, userAgent), os: first(SYSTEMS, userAgent) };
}

/** A coarse "Browser · OS" for the audit log (one language); never the whole user agent. */
export function deviceLabel(userAgent: string | null): string | null {
	const { browser, os } = deviceParts(userAgent);
	return browser && os ? `${browser} · ${os}` : (browser ?? os);
}

/** The device in words for the owner ("Chrome on Windows", "Windows 上的 Chrome"). */
export function describeDevice(userAgent: string | null, locale: Locale): string {
	const { browser, os } = deviceParts(userAgent);
	if (browser && os) return m.device_browser_on_os({ browser, os }, { locale });
	return browser ?? os ?? m.device_unknown({}, { locale });
}

/** A country code in words in `locale` ("Germany", "德国"); unknown when null. */
export function describeCountry(country: string | null, locale: Locale): string {
	if (!country) return m.country_unknown({}, { locale });
	try {
		return new Intl.DisplayNames([locale], { type: 'region' }).of(country) ?? country;
	} catch {
		return country;
	}
}
