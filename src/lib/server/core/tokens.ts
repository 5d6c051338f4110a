import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets handed to browsers and people: made here, stored only as `hashToken` (a copy of the
 * database holds no usable token), and compared only with `sameSecret`.
 */

/** A random token for cookies: base32 (lowercase, no padding), 20 bytes = 32 characters. */
export function newToken(): string {
	return encodeBase32LowerCaseNoPadding(randomBytes(20));
}

/** Whether `text` has the shape `newToken` makes (a cheap refusal before any look-up). */
export function isToken(text: string): boolean {
	return /^[a-z2-7]{32}$/.test(text);
}

/** SHA-256, hex: what is stored of a token. */
export function hashToken(token: string): string {
	return createHash('sha256').update(token).digest('hex');
}

/** Constant time whatever the inputs' lengths (both are hashed to 32 bytes first). */
export function sameSecret(a: string, b: string): boolean {
	return timingSafeEqual(
		createHash('sha256').update(a).digest(),
		createHash('sha256').update(b).digest()
	);
}
