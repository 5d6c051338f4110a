// Phone numbers for the seeded accounts: unique by construction and each one a number the app
// itself accepts (the check's parser, libphonenumber's full metadata). A benchmark that checks a
// seeded identifier must never be answered 400 for the seed's mistake.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// Bijections of [0, m): `i * P mod m` with a prime P not dividing m, so phones are unique by construction.
const scramble = (i: number, m: number) => (i * 7919 + 104_729) % m;
const CN_PREFIXES = [
	'130',
	'131',
	'132',
	'133',
	'135',
	'136',
	'137',
	'138',
	'139',
	'150',
	'151',
	'152',
	'155',
	'156',
	'157',
	'158',
	'159',
	'180',
	'181',
	'182',
	'183',
	'185',
	'186',
	'187',
	'188',
	'189'
];
const US_AREAS = ['212', '310', '415', '646', '617', '312', '206', '512', '305', '702'];
const UK_PREFIXES = ['71', '73', '74', '75', '77', '78', '79'];

function candidate(i: number): string {
	const bucket = i % 10;
	if (bucket < 6)
		return `+86${CN_PREFIXES[i % CN_PREFIXES.length]}${String(scramble(i, 1e8)).padStart(8, '0')}`;
	if (bucket < 8) return `+1${US_AREAS[i % US_AREAS.length]}${2_000_000 + scramble(i, 8e6)}`;
	if (bucket === 8) return `+79${String(scramble(i, 1e9)).padStart(9, '0')}`;
	return `+44${UK_PREFIXES[i % UK_PREFIXES.length]}${String(scramble(i, 1e8)).padStart(8, '0')}`;
}

/** Chinese mobile numbers on 199, a prefix the candidates above never use. */
const FALLBACK_PREFIX = '199';

function accepted(value: string): boolean {
	const parsed = parsePhoneNumberFromString(value);
	return parsed !== undefined && parsed.isValid() && parsed.number === value;
}

/**
 * The i-th phone number, E.164. The Chinese 13x/15x/18x candidates are valid for every 8-digit
 * subscriber number; the other countries' are checked (about 16 µs each), and a refused one
 * (e.g. +447700436210, in a UK range libphonenumber does not know) is replaced by +86199 and the
 * same scrambled subscriber number, which no other i can produce.
 */
export function phone(i: number): string {
	const value = candidate(i);
	if (value.startsWith('+86') || accepted(value)) return value;
	return `+86${FALLBACK_PREFIX}${String(scramble(i, 1e8)).padStart(8, '0')}`;
}
