import { sameSecret } from '../core/tokens';

/** Compares a `Bearer` header with the expected token in constant time. */
export function bearerMatches(header: string | null, expected: string): boolean {
	const match = /^Bearer (\S+)$/.exec(header ?? '');
	if (!match?.[1]) return false;
	return sameSecret(match[1], expected);
}
