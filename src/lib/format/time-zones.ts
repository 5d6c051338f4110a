/**
 * Which time zone a person's times are shown in (R14): the zone their browser reports (the
 * `tz` cookie the first page sets), else the main zone of their network's country, else UTC. The
 * server renders in that zone, so a page does not change its times after hydration.
 */

/** Written by the browser (not HttpOnly), read by the server on every page. */
export const TIME_ZONE_COOKIE = 'tz';

/** Longest IANA name is ~32 characters ("America/Argentina/ComodRivadavia"). */
const MAX_ZONE_LENGTH = 64;
const ZONE_SHAPE = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
const known = new Set<string>(['UTC']);

/** An IANA zone name the runtime knows (aliases such as Asia/Calcutta too), else null. */
export function validTimeZone(name: string | null | undefined): string | null {
	if (!name || name.length > MAX_ZONE_LENGTH || !ZONE_SHAPE.test(name)) return null;
	if (known.has(name)) return name;
	try {
		new Intl.DateTimeFormat('en', { timeZone: name });
	} catch {
		return null;
	}
	// Bounded: a cookie is anyone's to write, the runtime's zone list is not (~600 names).
	if (known.size < 1000) known.add(name);
	return name;
}

/**
 * A country's main zone, for a visitor whose browser has not told us its own yet (first visit,
 * JavaScript off). Rule: a country with several zones gets the zone where most of its people live
 * (US → New York, RU → Moscow, BR → São Paulo, AU → Sydney, CA → Toronto, ID → Jakarta, MX →
 * Mexico City); a country not listed gets UTC, which the page names, so a wrong guess is visible.
 */
const COUNTRY_ZONES: Readonly<Record<string, string>> = {
	AE: 'Asia/Dubai',
	AR: 'America/Argentina/Buenos_Aires',
	AT: 'Europe/Vienna',
	AU: 'Australia/Sydney',
	BD: 'Asia/Dhaka',
	BE: 'Europe/Brussels',
	BR: 'America/Sao_Paulo',
	CA: 'America/Toronto',
	CH: 'Europe/Zurich',
	CL: 'America/Santiago',
	CN: 'Asia/Shanghai',
	CO: 'America/Bogota',
	CZ: 'Europe/Prague',
	DE: 'Europe/Berlin',
	DK: 'Europe/Copenhagen',
	EG: 'Africa/Cairo',
	ES: 'Europe/Madrid',
	FI: 'Europe/Helsinki',
	FR: 'Europe/Paris',
	GB: 'Europe/London',
	GR: 'Europe/Athens',
	HK: 'Asia/Hong_Kong',
	ID: 'Asia/Jakarta',
	IE: 'Europe/Dublin',
	IL: 'Asia/Jerusalem',
	IN: 'Asia/Kolkata',
	IT: 'Europe/Rome',
	JP: 'Asia/Tokyo',
	KE: 'Africa/Nairobi',
	KR: 'Asia/Seoul',
	KZ: 'Asia/Almaty',
	MO: 'Asia/Macau',
	MX: 'America/Mexico_City',
	MY: 'Asia/Kuala_Lumpur',
	NG: 'Africa/Lagos',
	NL: 'Europe/Amsterdam',
	NO: 'Europe/Oslo',
	NZ: 'Pacific/Auckland',
	PE: 'America/Lima',
	PH: 'Asia/Manila',
	PK: 'Asia/Karachi',
	PL: 'Europe/Warsaw',
	PT: 'Europe/Lisbon',
	RO: 'Europe/Bucharest',
	RU: 'Europe/Moscow',
	SA: 'Asia/Riyadh',
	SE: 'Europe/Stockholm',
	SG: 'Asia/Singapore',
	TH: 'Asia/Bangkok',
	TR: 'Europe/Istanbul',
	TW: 'Asia/Taipei',
	UA: 'Europe/Kyiv',
	US: 'America/New_York',
	VN: 'Asia/Ho_Chi_Minh',
	ZA: 'Africa/Johannesburg'
};

/** The zone for this request: the browser's (cookie), else the network country's, else UTC. */
export function chooseTimeZone(cookie: string | undefined, country: () => string | null): string {
	const own = validTimeZone(cookie);
	if (own) return own;
	const code = country();
	return (code && validTimeZone(COUNTRY_ZONES[code])) || 'UTC';
}
