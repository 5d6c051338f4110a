import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from './clock';
import type { Db } from './db/database';

/** Keyed hashing for everything that must not be reversible offline (R6 codes, R15 keys, R4). */
export interface Keyring {
	/** HMAC-SHA256 under a sub-key named for its purpose, hex. */
	hmac(purpose: string, ...parts: string[]): string;
}

export async function loadKeyring(db: Db, clock: Clock): Promise<Keyring> {
	// Every instance races to create the same row; the first insert wins and all read it back.
	await db
		.insertInto('app_secrets')
		.values({ name: 'hmac', value: randomBytes(32).toString('base64url'), created_at: clock.now().getTime() })
		.onConflict((oc) => oc.column('name').doNothing())
		.execute();
	const row = await db.selectFrom('app_secrets').select('value').where('name', '=', 'hmac').executeTakeFirstOrThrow();
	return keyringFrom(Buffer.from(row.value, 'base64url'));
}

export function keyringFrom(master: Buffer): Keyring {
	const subkeys = new Map<string, Buffer>();
	const subkey = (purpose: string) => {
		let key = subkeys.get(purpose);
		if (!key) {
			key = createHmac('sha256', master).update(`subkey:${purpose}`).digest();
			subkeys.set(purpose, key);
		}
		return key;
	};
	return {
		hmac(purpose, ...parts) {
			const mac = createHmac('sha256', subkey(purpose));
			// Length-prefixed parts, so ("ab", "c") and ("a", "bc") never collide.
			for (const part of parts) mac.update(`${part.length}:${part}`);
			return mac.digest('hex');
		}
	};
}
