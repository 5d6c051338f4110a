import { createTOTPKeyURI, generateHOTP, verifyHOTP } from '@oslojs/otp';
import type { Clock } from '../core/clock';

/**
 * R22 second factor: RFC 6238 TOTP (30 s, 6 digits) through @oslojs/otp's HOTP with the step
 * computed from the injected clock (its TOTP helpers read Date.now(), which tests cannot move).
 */
const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;

export function newTotpKey(): Uint8Array {
	const key = new Uint8Array(20);
	crypto.getRandomValues(key);
	return key;
}

export function totpStep(clock: Clock): number {
	return Math.floor(clock.now().getTime() / (TOTP_PERIOD_SECONDS * 1000));
}

export function totpCode(key: Uint8Array, step: number): string {
	return generateHOTP(key, BigInt(step), DIGITS);
}

/** The step the code belongs to (now, or one step either side for clock drift), or null. */
export function matchTotp(key: Uint8Array, clock: Clock, code: string): number | null {
	const given = code.normalize('NFKC').replace(/\s+/g, '');
	if (!/^\d{6}$/.test(given)) return null;
	const now = totpStep(clock);
	for (const step of [now, now - 1, now + 1]) {
		if (verifyHOTP(key, BigInt(step), DIGITS, given)) return step;
	}
	return null;
}

export function totpKeyUri(username: string, key: Uint8Array): string {
	return createTOTPKeyURI('Account Security Check', username, key, TOTP_PERIOD_SECONDS, DIGITS);
}
