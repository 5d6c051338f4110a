import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { Clock } from './clock';
import { SEALED_COLUMNS } from './key-rotation';
import { KeyringError, type Keyring } from './keys';

/**
 * The key check: which key ring a database belongs to, kept in the database (`key_checks`, 0017).
 * For every key id that sealed, or may have sealed, what the database holds there is a row with a
 * fixed text sealed under that key. Every start (server and scripts) opens them all with its ring:
 * a ring that lacks one of those keys, or holds another key under the same id, stops the process
 * with one line naming APP_SECRET_KEYS, the key ids the database expects and the fix — instead of
 * a 500 on the first sealed value a request reads (outbox text, TOTP secrets, documents).
 * The ring's newest key gets its row at the first start that uses it; `npm run keys:rotate`
 * retires the rows of keys nothing is sealed under any more, so those keys may leave the ring.
 */

const PURPOSE = 'key-check';
const TEXT = 'Account Security Check: this database belongs to this key ring';

/** A sealed value and what it was sealed for: a key check row, or a value the database holds. */
interface Proof {
	kid: string;
	purpose: string;
	context: string;
	sealed: string;
	/** What it must open to, when known (a key check row). */
	text?: string;
}

async function readChecks(db: Db): Promise<Proof[]> {
	const rows = await db.selectFrom('key_checks').select(['kid', 'sealed']).orderBy('kid').execute();
	return rows.map((r) => ({ ...r, purpose: PURPOSE, context: r.kid, text: TEXT }));
}

function opens(keys: Keyring, proof: Proof): boolean {
	try {
		const text = keys.open(proof.purpose, proof.context, proof.sealed).toString('utf8');
		return proof.text === undefined || text === proof.text;
	} catch {
		return false;
	}
}

/** The refusal when `keys` cannot open every proof, or null. */
function refusal(keys: Keyring, proofs: Proof[], database: string): KeyringError | null {
	const expected = [...new Set(proofs.map((p) => p.kid))];
	const missing = expected.filter((kid) => !keys.kids.includes(kid));
	const other = expected.filter(
		(kid) => keys.kids.includes(kid) && proofs.some((p) => p.kid === kid && !opens(keys, p))
	);
	if (missing.length === 0 && other.length === 0) return null;
	const faults = [
		...(missing.length ? [`missing: ${missing.join(', ')}`] : []),
		...(other.length ? [`another key under the id ${other.join(', ')}`] : [])
	];
	return new KeyringError(
		`APP_SECRET_KEYS does not open ${database}: it expects the key id${expected.length > 1 ? 's' : ''} ` +
			`${expected.join(', ')}, the ring holds ${keys.kids.join(', ')} (${faults.join('; ')}). ` +
			'Set APP_SECRET_KEYS to the ring (or the file holding it) this database was started with, ' +
			'or point DATABASE_URL at a database of its own'
	);
}

/** Where a sealed value's key id ends: `v1.<kid>.` names the key (core/keys.ts). */
function kidPrefix(sealed: string): string {
	const end = sealed.indexOf('.', 3);
	return end > 0 ? sealed.slice(0, end + 1) : sealed;
}

/**
 * One sealed value per key id in every sealed column: what a database from before the key check
 * holds. Each query skips the key ids already found, so it runs once per key id per column.
 */
async function sealedSamples(db: Db): Promise<Proof[]> {
	const samples: Proof[] = [];
	for (const target of SEALED_COLUMNS) {
		const found: string[] = [];
		for (;;) {
			// Dynamic table and column names come only from the constant list in key-rotation.ts.
			let query = db
				.selectFrom(target.table as 'outbox')
				.select([`${target.context} as context` as 'id', `${target.column} as sealed` as 'id'])
				.where(target.column as 'id', 'is not', null);
			for (const prefix of found)
				query = query.where(
					sql`substr(${sql.ref(target.column)}, 1, ${prefix.length})`,
					'<>',
					prefix
				);
			const row = (await query.limit(1).executeTakeFirst()) as
				{ context: string; sealed: string } | undefined;
			if (!row) break;
			const prefix = kidPrefix(row.sealed);
			found.push(prefix);
			samples.push({ kid: prefix.slice(3, -1), purpose: target.purpose, ...row });
		}
	}
	return samples;
}

/** Whether any sealed column still holds a value sealed under `kid`. */
async function sealedUnder(db: Db, kid: string): Promise<boolean> {
	const prefix = `v1.${kid}.`;
	for (const target of SEALED_COLUMNS) {
		const row = await db
			.selectFrom(target.table as 'outbox')
			.select(sql`1`.as('one'))
			.where(sql`substr(${sql.ref(target.column)}, 1, ${prefix.length})`, '=', prefix)
			.limit(1)
			.executeTakeFirst();
		if (row) return true;
	}
	return false;
}

/** Inserts a check for `kid` unless one is there (several instances may start at once). */
async function record(db: Db, keys: Keyring, kid: string, now: number): Promise<string | null> {
	const sealed = keys.seal(PURPOSE, kid, TEXT, kid);
	const result = await db
		.insertInto('key_checks')
		.values({ kid, sealed, created_at: now })
		.onConflict((oc) => oc.column('kid').doNothing())
		.executeTakeFirst();
	return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? sealed : null;
}

/**
 * Opens the database's key check with `keys`, or refuses (KeyringError); records the newest key's
 * check when there is none. `database` names the database in the refusal.
 */
export async function openKeyCheck(
	parts: { db: Db; keys: Keyring; clock: Clock },
	database: string
): Promise<void> {
	const { db, keys, clock } = parts;
	let checks = await readChecks(db);
	if (checks.length === 0) {
		// The first start, or a database from before the key check: what it already holds names
		// the keys it needs, and each of them gets its check.
		const samples = await sealedSamples(db);
		const refused = refusal(keys, samples, database);
		if (refused) throw refused;
		for (const kid of new Set(samples.map((s) => s.kid)))
			await record(db, keys, kid, clock.now().getTime());
		checks = await readChecks(db);
	}
	const refused = refusal(keys, checks, database);
	if (refused) throw refused;
	const newest = keys.kids[0]!;
	if (checks.some((c) => c.kid === newest)) return;
	const mine = await record(db, keys, newest, clock.now().getTime());
	// Another process with another ring may have recorded its own check meanwhile: read again, and
	// take back this one if this ring loses, so the ring already in use keeps the database.
	const after = refusal(keys, await readChecks(db), database);
	if (after) {
		if (mine)
			await db
				.deleteFrom('key_checks')
				.where('kid', '=', newest)
				.where('sealed', '=', mine)
				.execute();
		throw after;
	}
}

/**
 * After `npm run keys:rotate`: the checks of older keys nothing is sealed under any more are
 * removed, so those keys may leave the ring. Keys something still needs keep their check.
 */
export async function retireKeyChecks(parts: {
	db: Db;
	keys: Keyring;
}): Promise<{ retired: string[]; needed: string[] }> {
	const { db, keys } = parts;
	const result = { retired: [] as string[], needed: [] as string[] };
	for (const { kid } of await readChecks(db)) {
		if (kid === keys.kids[0]) continue;
		if (await sealedUnder(db, kid)) {
			result.needed.push(kid);
			continue;
		}
		await db.deleteFrom('key_checks').where('kid', '=', kid).execute();
		result.retired.push(kid);
	}
	return result;
}
