import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The key ring: every secret key of the application, kept OUTSIDE the database (a copy of the
 * database alone yields no live code, no TOTP secret and no document). `APP_SECRET_KEYS` holds
 * `kid:base64` entries, newest first (comma or newline separated), or the path of a file that
 * does. Sub-keys are derived with HKDF-SHA256, one per purpose, so no two uses share a key:
 * keyed hashes (R6 codes, R15 counters, R4 identifier keys, check grants) use the newest key;
 * sealed data (AES-256-GCM) names the key it was sealed with, so older keys keep opening what
 * they sealed until `npm run keys:rotate` has re-sealed it under the newest.
 */
export interface Keyring {
	/** HMAC-SHA256 under the newest key's sub-key for `purpose`, hex. */
	hmac(purpose: string, ...parts: string[]): string;
	/**
	 * AES-256-GCM under the newest key's sub-key for `purpose`, bound to `context` (e.g. a row id);
	 * `kid` names another key on the ring instead (the key check holds one value per key).
	 */
	seal(purpose: string, context: string, plaintext: Uint8Array | string, kid?: string): string;
	/** Opens what `seal` made with any key still on the ring; throws when it cannot. */
	open(purpose: string, context: string, sealed: string): Buffer;
	/** Whether `sealed` was sealed with the newest key (rotation re-seals the rest). */
	isCurrent(sealed: string): boolean;
	readonly kids: readonly string[];
}

export interface RingKey {
	kid: string;
	key: Buffer;
}

export class KeyringError extends Error {
	override name = 'KeyringError';
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const SEALED = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/;

/** Parses `kid:base64` entries (newest first). Each key is 32 random bytes. */
export function parseKeyEntries(text: string, source = 'APP_SECRET_KEYS'): RingKey[] {
	const entries = text
		.split('\n')
		.map((line) => line.replace(/#.*$/, ''))
		.join(',')
		.split(/[\s,]+/)
		.filter((e) => e !== '');
	if (entries.length === 0)
		throw new KeyringError(`${source}: no keys (expected kid:base64 entries, newest first)`);
	const seen = new Set<string>();
	return entries.map((entry) => {
		const at = entry.indexOf(':');
		const kid = entry.slice(0, at);
		const key = Buffer.from(entry.slice(at + 1), 'base64');
		if (at < 1 || !KID.test(kid))
			throw new KeyringError(
				`${source}: "${kid || entry.slice(0, 8)}…" is not kid:base64 (kid: letters, digits, _ or -)`
			);
		if (key.length !== 32)
			throw new KeyringError(
				`${source}: key "${kid}" must be 32 bytes (base64 of 32 random bytes; npm run keys:new)`
			);
		if (seen.has(kid)) throw new KeyringError(`${source}: key id "${kid}" appears twice`);
		seen.add(kid);
		return { kid, key };
	});
}

/** A new `kid:base64` entry: what `npm run keys:new` prints. */
export function newKeyEntry(now: Date): string {
	const kid = `k${now.toISOString().slice(0, 10).replaceAll('-', '')}${randomBytes(2).toString('hex')}`;
	return `${kid}:${randomBytes(32).toString('base64')}`;
}

/**
 * The ring from the configuration: the setting itself, or the file it names. Without it, a
 * production server refuses to start; development and tests make (once) and use a local file.
 */
export function loadKeyring(
	setting: string | undefined,
	options: { production: boolean; devKeyFile: string; say?: (message: string) => void }
): Keyring {
	if (setting && setting.trim() !== '') {
		const value = setting.trim();
		const isEntries = /^[A-Za-z0-9_-]{1,32}:/.test(value);
		const text = isEntries ? value : readKeyFile(value);
		return keyringFrom(
			parseKeyEntries(text, isEntries ? 'APP_SECRET_KEYS' : `APP_SECRET_KEYS (${value})`)
		);
	}
	if (options.production) {
		throw new KeyringError(
			'APP_SECRET_KEYS is required in production: generate a key ring with `npm run keys:new` and set it (or a file path) in the environment'
		);
	}
	if (!existsSync(options.devKeyFile)) {
		mkdirSync(dirname(options.devKeyFile), { recursive: true, mode: 0o700 });
		writeFileSync(options.devKeyFile, `${newKeyEntry(new Date(0))}\n`, { mode: 0o600, flag: 'wx' });
		options.say?.(
			`APP_SECRET_KEYS unset: generated a development key ring at ${options.devKeyFile} (never use it in production)`
		);
	}
	return keyringFrom(parseKeyEntries(readKeyFile(options.devKeyFile), options.devKeyFile));
}

function readKeyFile(path: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new KeyringError(
			`APP_SECRET_KEYS: cannot read the key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`
		);
	}
}

export function keyringFrom(keys: RingKey[]): Keyring {
	if (keys.length === 0) throw new KeyringError('the key ring is empty');
	const byKid = new Map(keys.map((k) => [k.kid, k.key]));
	const newest = keys[0]!;
	const subkeys = new Map<string, Buffer>();
	const subkey = (kid: string, purpose: string): Buffer => {
		const name = `${kid}\u0000${purpose}`;
		let key = subkeys.get(name);
		if (!key) {
			const master = byKid.get(kid);
			if (!master) throw new KeyringError(`no key "${kid}" on the ring`);
			key = Buffer.from(
				hkdfSync('sha256', master, Buffer.alloc(0), `account-security-check:${purpose}`, 32)
			);
			subkeys.set(name, key);
		}
		return key;
	};
	const aad = (purpose: string, context: string) =>
		Buffer.from(`${purpose.length}:${purpose}|${context}`);
	return {
		kids: keys.map((k) => k.kid),
		hmac(purpose, ...parts) {
			const mac = createHmac('sha256', subkey(newest.kid, `hmac:${purpose}`));
			// Length-prefixed parts, so ("ab", "c") and ("a", "bc") never collide.
			for (const part of parts) mac.update(`${part.length}:${part}`);
			return mac.digest('hex');
		},
		seal(purpose, context, plaintext, kid = newest.kid) {
			const iv = randomBytes(12);
			const cipher = createCipheriv('aes-256-gcm', subkey(kid, `seal:${purpose}`), iv);
			cipher.setAAD(aad(purpose, context));
			const body = Buffer.concat([
				cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
				cipher.final(),
				cipher.getAuthTag()
			]);
			return `v1.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
		},
		open(purpose, context, sealed) {
			const match = SEALED.exec(sealed);
			if (!match) throw new KeyringError('not a sealed value');
			const [, kid, ivText, bodyText] = match as unknown as [string, string, string, string];
			const body = Buffer.from(bodyText, 'base64url');
			if (body.length < 16) throw new KeyringError('sealed value too short');
			const decipher = createDecipheriv(
				'aes-256-gcm',
				subkey(kid, `seal:${purpose}`),
				Buffer.from(ivText, 'base64url')
			);
			decipher.setAAD(aad(purpose, context));
			decipher.setAuthTag(body.subarray(body.length - 16));
			return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
		},
		isCurrent(sealed) {
			return SEALED.exec(sealed)?.[1] === newest.kid;
		}
	};
}

/** Development and tests only: where a local key ring is made when APP_SECRET_KEYS is unset. */
const DEV_KEY_FILE = './data/secret-keys';

/** The ring a configuration names (the server, the scripts and the tests' servers alike). */
export function keyringForConfig(
	config: { secretKeys: string | undefined; production: boolean },
	say?: (message: string) => void
): Keyring {
	return loadKeyring(config.secretKeys, {
		production: config.production,
		devKeyFile: DEV_KEY_FILE,
		say
	});
}

/** A fixed ring for tests (never for a server): one key of the given byte. */
export function testKeyring(byte = 7, kid = 'test'): Keyring {
	return keyringFrom([{ kid, key: Buffer.alloc(32, byte) }]);
}
