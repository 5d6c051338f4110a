import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares a `Bearer` header with the expected token in constant time. */
export function bearerMatches(header: string | null, expected: string): boolean {
	const match = /^Bearer (\S+)$/.exec(header ?? '');
	if (!match?.[1]) return false;
	const digest = (s: string) => createHash('sha256').update(s).digest();
	return timingSafeEqual(digest(match[1]), digest(expected));
}
