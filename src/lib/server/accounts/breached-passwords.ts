import { createHash } from 'node:crypto';
import type { Ctx } from '../core/context';

/**
 * R5: a new password found in known breaches is refused. Pwned Passwords' k-anonymity range API:
 * only the first 5 hex characters of the password's SHA-1 leave the server, the suffixes it
 * answers (`SUFFIX:COUNT` lines, padded with `:0` decoys when asked) are compared here. Off
 * without PWNED_PASSWORDS_URL. Fails open: a service that is down, slow or answers nonsense never
 * keeps a person from setting a password; it is logged and counted
 * (`asc_breached_password_checks_total{outcome="unavailable"}`).
 */
export type BreachedOutcome = 'breached' | 'clean' | 'unavailable' | 'off';

const SUFFIX_LINE = /^([0-9A-F]{35}):(\d+)$/;

export async function lookUpBreachedPassword(ctx: Ctx, password: string): Promise<BreachedOutcome> {
	const service = ctx.config.pwnedPasswords;
	if (!service) return 'off';
	// NFC as the password is hashed (passwords.ts), so any keyboard's form of it is looked up.
	const sha1 = createHash('sha1').update(password.normalize('NFC')).digest('hex').toUpperCase();
	const [prefix, suffix] = [sha1.slice(0, 5), sha1.slice(5)];
	let outcome: BreachedOutcome;
	try {
		const response = await fetch(`${service.url}/range/${prefix}`, {
			headers: { 'add-padding': 'true' },
			signal: AbortSignal.timeout(service.timeoutMs)
		});
		if (!response.ok) throw new Error(`status ${response.status}`);
		outcome = breachedIn(await response.text(), suffix) ? 'breached' : 'clean';
	} catch (error) {
		ctx.log.warn({
			event: 'breached_passwords.unavailable',
			message: (error as Error)?.message ?? String(error)
		});
		outcome = 'unavailable';
	}
	ctx.metrics.breachedPasswordChecks.inc({ outcome });
	return outcome;
}

/** Throws on an answer that is not a range: a broken proxy's page must not read as "clean". */
function breachedIn(body: string, suffix: string): boolean {
	const lines = body.split(/\r?\n/).filter((line) => line.trim() !== '');
	if (lines.length === 0) throw new Error('empty range');
	let found = false;
	for (const line of lines) {
		const match = SUFFIX_LINE.exec(line.trim().toUpperCase());
		if (!match) throw new Error('malformed range line');
		if (match[1] === suffix && Number(match[2]) > 0) found = true;
	}
	return found;
}
