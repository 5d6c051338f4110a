import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAppContext, prepareDatabase, startupProblem } from '../../src/lib/server/app';
import { FixedClock } from '../../src/lib/server/core/clock';
import { parseConfig, type Config } from '../../src/lib/server/core/config';
import { openKeyCheck, retireKeyChecks } from '../../src/lib/server/core/key-check';
import { rotateSealed } from '../../src/lib/server/core/key-rotation';
import { KeyringError, keyringFrom, type Keyring } from '../../src/lib/server/core/keys';
import { openGeoIp } from '../../src/lib/server/platform/geoip';
import { createAgent } from '../../src/lib/server/support/agents';
import { testAppContext, testDocumentPool } from '../support/app-context';
import { AGENT_PASSWORD } from '../support/agents';
import { testDatabases, type TestDatabase } from '../support/databases';

const oldKey = { kid: 'k20260101aaaa', key: Buffer.alloc(32, 1) };
const newKey = { kid: 'k20261201bbbb', key: Buffer.alloc(32, 2) };
const devKey = { kid: 'k19700101bdf8', key: Buffer.alloc(32, 3) };
/** Another key under the id of `oldKey`: a ring made again with `keys:new` by hand, say. */
const impostor = { kid: oldKey.kid, key: Buffer.alloc(32, 4) };

const clock = new FixedClock('2026-12-06T12:00:00Z');

describe.each(testDatabases)(
	'the key check (§9: the key ring cannot be lost or mixed up) on $name',
	({ open }) => {
		let database: TestDatabase;
		let config: Config;
		/** How a refusal names the test database (never with a password). */
		let named: string;
		beforeEach(async () => {
			database = await open();
			const { target } = database;
			const url = target.kind === 'sqlite' ? `file:${target.path}` : target.url;
			config = parseConfig({ NODE_ENV: 'test', DATABASE_URL: url });
			named =
				target.kind === 'sqlite'
					? `the database ${target.path}`
					: `the PostgreSQL database ${new URL(url).host}${new URL(url).pathname}`;
		});
		afterEach(() => database.dispose());

		/** What every start does, server and scripts alike: migrate, then open the key check. */
		const start = (keys: Keyring) => prepareDatabase(config, database, keys, clock);
		const checks = async () =>
			await database.db.selectFrom('key_checks').select(['kid', 'sealed']).orderBy('kid').execute();
		async function refusal(keys: Keyring): Promise<KeyringError> {
			const error = await start(keys).then(
				() => null,
				(e: unknown) => e
			);
			expect(error).toBeInstanceOf(KeyringError);
			return error as KeyringError;
		}
		/** An agent whose TOTP secret is sealed under `keys`' newest key, as the agent CLI makes one. */
		async function agentSealedWith(keys: Keyring, username = 'li.na') {
			const made = await createAgent(
				{ ...testAppContext(database), keys },
				{ username, password: AGENT_PASSWORD, role: 'agent' }
			);
			expect(made.ok).toBe(true);
		}

		it('the first start records a check under the newest key; every later start with the same ring opens it', async () => {
			await start(keyringFrom([oldKey]));
			const [first, ...rest] = await checks();
			expect(rest).toEqual([]);
			expect(first?.kid).toBe(oldKey.kid);
			expect(first?.sealed).toMatch(new RegExp(`^v1\\.${oldKey.kid}\\.`));
			await start(keyringFrom([oldKey]));
			await start(keyringFrom([oldKey]));
			expect(await checks()).toEqual([first]);
		});

		it('another ring is refused at start: one line naming APP_SECRET_KEYS, the key ids the database expects and the fix; nothing recorded for it', async () => {
			await start(keyringFrom([devKey]));
			const error = await refusal(keyringFrom([newKey]));
			expect(error.message).toBe(
				`APP_SECRET_KEYS does not open ${named}: it expects the key id ${devKey.kid}, the ring holds ${newKey.kid} (missing: ${devKey.kid}). Set APP_SECRET_KEYS to the ring (or the file holding it) this database was started with, or point DATABASE_URL at a database of its own`
			);
			expect(startupProblem(error)).toMatch(
				/^Account Security Check cannot start: APP_SECRET_KEYS [^\n]+$/
			);
			expect((await checks()).map((c) => c.kid)).toEqual([devKey.kid]);
			// The dev ring still opens it: the refused start changed nothing.
			await start(keyringFrom([devKey]));
		});

		it('the server start-up (openAppContext) refuses another ring before it serves anything', async () => {
			const parts = { database, clock, geoip: openGeoIp(), workers: testDocumentPool };
			const first = await openAppContext(config, { ...parts, keys: keyringFrom([devKey]) });
			await first.close();
			const refused = await openAppContext(config, { ...parts, keys: keyringFrom([newKey]) }).then(
				() => null,
				(e: unknown) => e
			);
			expect(startupProblem(refused)).toContain(`it expects the key id ${devKey.kid}`);
		});

		it('a ring with another key under the same key id is refused', async () => {
			await start(keyringFrom([oldKey]));
			const error = await refusal(keyringFrom([impostor]));
			expect(error.message).toContain(
				`it expects the key id ${oldKey.kid}, the ring holds ${oldKey.kid} (another key under the id ${oldKey.kid})`
			);
		});

		it('rotation: a new key in front opens the old check and adds its own; dropping the old key before keys:rotate is refused; after it, the new key alone opens', async () => {
			await start(keyringFrom([oldKey]));
			await agentSealedWith(keyringFrom([oldKey]));
			const both = keyringFrom([newKey, oldKey]);
			await start(both);
			expect((await checks()).map((c) => c.kid)).toEqual([oldKey.kid, newKey.kid]);

			// The old key dropped too early: the database still needs it.
			const early = await refusal(keyringFrom([newKey]));
			expect(early.message).toContain(
				`it expects the key ids ${oldKey.kid}, ${newKey.kid}, the ring holds ${newKey.kid} (missing: ${oldKey.kid})`
			);
			// Nothing re-sealed yet: the old key's check stays.
			expect(await retireKeyChecks({ db: database.db, keys: both })).toEqual({
				retired: [],
				needed: [oldKey.kid]
			});

			const rotated = await rotateSealed({ ...testAppContext(database), keys: both });
			expect(rotated.resealed['agents.totp_key']).toBe(1);
			expect(await retireKeyChecks({ db: database.db, keys: both })).toEqual({
				retired: [oldKey.kid],
				needed: []
			});
			await start(keyringFrom([newKey]));
			expect((await checks()).map((c) => c.kid)).toEqual([newKey.kid]);
		});

		it('a database from before the key check: the keys its sealed values name are required at the first start', async () => {
			// Sealed values, but no check yet (as after migration 0017 on an older database).
			await agentSealedWith(keyringFrom([devKey]));
			expect(await checks()).toEqual([]);
			const error = await refusal(keyringFrom([newKey]));
			expect(error.message).toContain(
				`it expects the key id ${devKey.kid}, the ring holds ${newKey.kid}`
			);
			expect(await checks()).toEqual([]);
			// Same id, other key: the sealed value does not open.
			await agentSealedWith(keyringFrom([oldKey]), 'wang.wei');
			expect((await refusal(keyringFrom([impostor, devKey]))).message).toContain(
				`(another key under the id ${oldKey.kid})`
			);
			// The right keys: each gets its check, the newest too.
			await start(keyringFrom([newKey, oldKey, devKey]));
			expect((await checks()).map((c) => c.kid).sort()).toEqual(
				[devKey.kid, newKey.kid, oldKey.kid].sort()
			);
			expect((await refusal(keyringFrom([newKey, oldKey]))).message).toContain(
				`(missing: ${devKey.kid})`
			);
		});

		it('instances starting at once on an empty database with one ring: all start, one check, no duplicate-key error', async () => {
			const results = await Promise.allSettled(
				Array.from({ length: 6 }, () => start(keyringFrom([newKey])))
			);
			expect(results.map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
			expect((await checks()).map((c) => c.kid)).toEqual([newKey.kid]);
		});

		it('instances with two different rings starting at once: at most one starts, and the database keeps only a ring that started', async () => {
			// Rounds, so the starts interleave in more than one order.
			for (let round = 0; round < 8; round += 1) {
				await database.db.deleteFrom('key_checks').execute();
				const rings = (round % 2 ? [devKey, newKey, devKey] : [newKey, devKey, newKey]).map((k) =>
					keyringFrom([k])
				);
				// The key check alone, without the migrator's lock in front that orders whole starts.
				const results = await Promise.allSettled(
					rings.map((keys) => openKeyCheck({ db: database.db, keys, clock }, named))
				);
				const started = new Set(
					results.flatMap((r, i) => (r.status === 'fulfilled' ? [rings[i]!.kids[0]] : []))
				);
				expect(started.size).toBeLessThanOrEqual(1);
				for (const r of results)
					if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(KeyringError);
				// A refused start takes back the check it recorded: only a ring that started keeps one.
				expect((await checks()).map((c) => c.kid)).toEqual([...started]);
			}
		});
	}
);
