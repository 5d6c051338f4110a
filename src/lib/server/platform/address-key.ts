import { isIP } from 'node:net';
import type { Keyring } from '../core/keys';

/**
 * Per-address limits (R15 and every other flow) count *networks*, not the text of an address:
 * one IPv4 address is one bucket; an IPv6 client is one /64 (what a single subscriber is given,
 * and rotates through at will), with a wider /48 tier on top (a site). Every spelling of one
 * address — upper or lower case, leading zeros, `::` anywhere, `::ffff:1.2.3.4` and its hex
 * form `::ffff:102:304` — lands in the same bucket.
 */

/** Eight 16-bit groups of an IPv6 address, or null. Zone ids (`%eth0`) are dropped. */
function ipv6Groups(address: string): number[] | null {
	let text = address.split('%')[0]!.toLowerCase();
	if (isIP(text) !== 6) return null;
	// An embedded IPv4 tail (`::ffff:1.2.3.4`) is the same two groups written in hex.
	text = text.replace(
		/(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
		(_, a: string, b: string, c: string, d: string) =>
			`${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`
	);
	const halves = text.split('::');
	if (halves.length > 2) return null;
	const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
	const left = parse(halves[0]!);
	const right = halves.length === 2 ? parse(halves[1]!) : [];
	const fill = halves.length === 2 ? 8 - left.length - right.length : 0;
	if (fill < 0) return null;
	const groups = [...left, ...Array<number>(fill).fill(0), ...right];
	return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
		? groups
		: null;
}

const hex = (groups: number[]) => groups.map((g) => g.toString(16)).join(':');

/**
 * One text per address: IPv4 as dotted quad (also when it arrives IPv4-mapped), IPv6 in the
 * RFC 5952 form (lower case, no leading zeros, the longest run of zero groups as `::`).
 * Null when it is no address at all.
 */
export function canonicalAddress(raw: string): string | null {
	const trimmed = raw.trim().replace(/^\[(.*)\]$/, '$1');
	if (isIP(trimmed) === 4) return trimmed.split('.').map(Number).join('.');
	const groups = ipv6Groups(trimmed);
	if (!groups) return null;
	if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
		return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
	}
	// The longest run (the first of equal ones) of two or more zero groups becomes `::`.
	let best = { start: -1, length: 0 };
	for (let i = 0; i < 8;) {
		if (groups[i] !== 0) {
			i += 1;
			continue;
		}
		let j = i;
		while (j < 8 && groups[j] === 0) j += 1;
		if (j - i > best.length) best = { start: i, length: j - i };
		i = j;
	}
	if (best.length < 2) return hex(groups);
	return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

/** The networks one client address counts in: IPv4 → itself; IPv6 → its /64 and its /48. */
export function addressNetworks(raw: string): { narrow: string; wide: string | null } {
	const address = canonicalAddress(raw);
	if (address === null) return { narrow: 'unknown', wide: null };
	if (isIP(address) === 4) return { narrow: address, wide: null };
	const groups = ipv6Groups(address)!;
	return { narrow: `${hex(groups.slice(0, 4))}::/64`, wide: `${hex(groups.slice(0, 3))}::/48` };
}

/** The keyed hash of the address's narrow network: the key every per-address counter uses (R4). */
export function addressKey(keys: Keyring, raw: string): string {
	return keys.hmac('ip', addressNetworks(raw).narrow);
}

/** The keyed hash of the /48 around an IPv6 address; null for IPv4. */
export function wideAddressKey(keys: Keyring, raw: string): string | null {
	const { wide } = addressNetworks(raw);
	return wide === null ? null : keys.hmac('ip48', wide);
}
