import { hash, verify, type Options } from '@node-rs/argon2';
import { createRequire } from 'node:module';
import { m } from '$lib/paraglide/messages';
import { failure, type Failure } from '../core/failures';
import { once } from '../core/once';

/** R5: the longest password accepted. */
const PASSWORD_MAX_LENGTH = 128;

export type PasswordProblem = 'too_short' | 'too_long' | 'too_common' | 'equals_identifier';

// R5: 49,233 most common passwords (zxcvbn-ts "passwords-common", MIT), compared case-insensitively.
// Loaded on the first password check, not at start: its dictionaries hold ~7 MB that a process
// answering checks never needs (peak RSS, docs/BENCHMARKS.md).
const commonPasswords = once(() => {
	const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as {
		dictionary: Record<string, unknown>;
	};
	return new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
});

/** R5: NFC-normalised, so the same password typed on any keyboard hashes the same. */
function normalizePassword(password: string): string {
	return password.normalize('NFC');
}

/** Length counts characters as people see them (code points), not UTF-16 units. */
function length(password: string): number {
	return [...password].length;
}

export function checkPassword(
	password: string,
	rules: { minLength: number; identifiers: string[] }
): PasswordProblem | null {
	const normalized = normalizePassword(password);
	const n = length(normalized);
	if (n < rules.minLength) return 'too_short';
	if (n > PASSWORD_MAX_LENGTH) return 'too_long';
	const lower = normalized.toLowerCase();
	// R5: equal to the identifier (whole, or an email's local part, or a phone's digits).
	for (const id of rules.identifiers) {
		const candidates = [id, id.split('@')[0] ?? '', id.replace(/^\+/, '')];
		if (candidates.some((c) => c.length > 0 && c.toLowerCase() === lower))
			return 'equals_identifier';
	}
	if (commonPasswords().has(lower)) return 'too_common';
	return null;
}

// R5: argon2id, OWASP's m=19 MiB, t=2, p=1; @node-rs/argon2 hashes on a worker thread.
// (`Algorithm` is an ambient const enum; 2 is its Argon2id.)
const options: Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
	return hash(normalizePassword(password), options);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	try {
		return await verify(passwordHash, normalizePassword(password));
	} catch {
		return false;
	}
}

const dummyHash = once(() => hashPassword('not-a-real-password-only-for-timing'));
/**
 * Spends the same time as a real verification, for identifiers with no account, so sign-in
 * timing does not reveal which identifiers are registered (R15, R18).
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
	await verifyPassword(await dummyHash(), password);
	return false;
}

/** R5: the failure for a password the rules refuse, on `field`. */
export const passwordFailure = (
	problem: PasswordProblem,
	minLength: number,
	field = 'password'
): Failure =>
	problem === 'too_common'
		? failure(400, 'password_too_common', m.error_password_too_common(), { field })
		: failure(
				400,
				'invalid_password',
				problem === 'too_short'
					? m.error_password_too_short({ min: minLength })
					: problem === 'too_long'
						? m.error_password_too_long()
						: m.error_password_equals_identifier(),
				{ field }
			);
