import { randomInt } from 'node:crypto';

/**
 * R19: an appeal's status code — what the person keeps to follow their appeal. 16 characters of
 * Crockford's base32 (80 bits), shown in four groups (`7KQ2-M9XD-4FHT-0WPA`) so it can be read
 * aloud, written down and typed on a phone: no I, L, O or U, and what is typed is forgiven (case,
 * spaces, hyphens; O read as 0, I and L as 1). Only its SHA-256 is stored.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 16;

/** `length` random Crockford base32 characters (5 bits each): status codes and references. */
export function randomCrockford(length: number): string {
	let s = '';
	for (let i = 0; i < length; i += 1) s += CROCKFORD[randomInt(0, 32)];
	return s;
}

export function newStatusCode(): string {
	return group(randomCrockford(LENGTH));
}

const group = (s: string) => s.match(/.{4}/g)!.join('-');

/** Crockford's reading of what a person typed: the same letters, without separators. */
export function crockfordReading(raw: string): string {
	return raw
		.normalize('NFKC')
		.toUpperCase()
		.replace(/[\s-]/g, '')
		.replace(/O/g, '0')
		.replace(/[IL]/g, '1');
}

/**
 * The code as it was issued, from what was typed. A secret of the earlier form (43 characters of
 * base64url, before status codes) is returned as typed, so appeals filed then still open.
 */
export function normalizeStatusCode(raw: string): string {
	const read = crockfordReading(raw);
	return read.length === LENGTH && [...read].every((c) => CROCKFORD.includes(c))
		? group(read)
		: raw.trim();
}
