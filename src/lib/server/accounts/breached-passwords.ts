import { createHash } from 'node:crypto';
import type { Ctx } from '../core/context';

/**
 * R5: a new password found in known breaches is refused. Pwned Passwords' k-anonymity range API:
 * only the first 5 hex characters of the password's SHA-1 leave the server, the suffixes it
 * answers (`SUFFIX:COUNT` lines, padded with `:0` decoys when asked) are compared here. Off
 * without PWNED_PASSWORDS_URL. Fails open: a service that is down, slow or answers nonsense never
 * keeps a person from setting a password; it is logged and counted
 * (`asc_breached_password_checks_total{outcome="unavailable"}`).
 *
 * The answer is taken only from the configured address: a redirect is not followed (it would send
 * the prefix, and trust, to whoever the service or a proxy names) and counts as unavailable. Its
 * body is read as a stream up to `MAX_RANGE_BYTES` (a real padded range is about 30 KB); a longer
 * or endless one is cut there and counts as unavailable, so a broken or hostile service can hold
 * neither memory nor the request.
 */
export type BreachedOutcome = 'breached' | 'clean' | 'unavailable' | 'off';

const SUFFIX_LINE = /^([0-9A-F]{35}):(\d+)$/;

/** 1 MiB: some thirty times a padded range answer (800–1,000 lines of 40 bytes). */
const MAX_RANGE_BYTES = 1024 * 1024;

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
			signal: AbortSignal.timeout(service.timeoutMs),
			redirect: 'manual'
		});
		if (!response.ok) {
			await response.body?.cancel().catch(() => {});
			throw new Error(
				response.status >= 300 && response.status < 400
					? `redirect ${response.status} not followed`
					: `status ${response.status || response.type}`
			);
		}
		outcome = breachedIn(await readCapped(response, MAX_RANGE_BYTES), suffix)
			? 'breached'
			: 'clean';
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

/** The body as text, or a throw once it passes `limit` bytes (read no further). */
async function readCapped(response: Response, limit: number): Promise<string> {
	const declared = Number(response.headers.get('content-length'));
	if (Number.isFinite(declared) && declared > limit) {
		await response.body?.cancel().catch(() => {});
		throw new Error('range answer too large');
	}
	if (!response.body) return '';
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > limit) {
			await reader.cancel().catch(() => {});
			throw new Error('range answer too large');
		}
		chunks.push(value);
	}
	return Buffer.concat(chunks).toString('utf8');
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
