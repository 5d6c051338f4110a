import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, signInAgent } from '../../src/lib/server/support/agents';
import { requestVerificationCode } from '../../src/lib/server/check/verification';
import { startContactChange } from '../../src/lib/server/contact-change/change';
import { openDatabase } from '../../src/lib/server/db/database';
import { migrateToLatest } from '../../src/lib/server/db/migrate';
import { readDocument } from '../../src/lib/server/appeals/documents/store';
import { rotateSealed } from '../../src/lib/server/core/key-rotation';
import { listOutboxFor } from '../../src/lib/server/messaging/outbox';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { requestPasswordReset } from '../../src/lib/server/accounts/password-reset';
import { startRegistration } from '../../src/lib/server/accounts/registration';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import { keyringFrom, testKeyring, type Keyring } from '../../src/lib/server/core/keys';
import { totpCode, totpStep } from '../../src/lib/server/core/totp';
import { testAppContext } from '../support/app-context';
import { fileAppeal } from '../support/appeals';
import { AGENT_PASSWORD } from '../support/agents';
import { testDatabases, type TestDatabase, type TestDatabaseKind } from '../support/databases';
import { insertAccount, uniqueEmail } from '../support/factories';

const PASSWORD = 'a long and quiet river';
const meta: RequestMeta = {
	ip: '1.0.1.1',
	ipCountry: 'CN',
	deviceId: 'd'.repeat(64),
	locale: 'en',
	userAgent: null
};

/** An SQLite database in a file, so the test can read what a thief copying the file would get. */
const sqliteFile: TestDatabaseKind = {
	name: 'sqlite',
	async open(): Promise<TestDatabase> {
		const path = join(mkdtempSync(join(tmpdir(), 'asc-at-rest-')), 'app.db');
		const target = { kind: 'sqlite' as const, path };
		const handle = openDatabase(target);
		await migrateToLatest(handle, { keys: testKeyring() });
		return { ...handle, target, dispose: () => handle.close() };
	}
};
const kinds = [sqliteFile, ...testDatabases.filter((k) => k.name === 'postgres')];

/** Everything a copy of the database holds, as text. */
async function copyOfTheDatabase(database: TestDatabase): Promise<string> {
	if (database.target.kind === 'sqlite') {
		await sql`pragma wal_checkpoint(TRUNCATE)`.execute(database.db);
		const path = database.target.path;
		return [path, `${path}-wal`]
			.filter(existsSync)
			.map((p) => readFileSync(p).toString('latin1'))
			.join('\n');
	}
	const tables = await sql<{
		tablename: string;
	}>`select tablename from pg_tables where schemaname = current_schema()`.execute(database.db);
	const dumps: string[] = [];
	for (const { tablename } of tables.rows) {
		const rows = await sql`select * from ${sql.table(tablename)}`.execute(database.db);
		dumps.push(
			JSON.stringify(rows.rows, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
		);
	}
	return dumps.join('\n');
}

/** A code standing on its own in the copy (not inside a longer run of digits, a hash or a seal). */
const inClear = (copy: string, code: string) =>
	new RegExp(`(?<![A-Za-z0-9_-])${code}(?![A-Za-z0-9_-])`).test(copy);

describe.each(kinds)('nothing secret at rest in clear on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	const codes = new Map<string, string>();
	let agentId: string;
	let documentIds: string[];
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
		// One code of every purpose (R6), a TOTP secret (R22) and identity documents (R19).
		const owner = await insertAccount(database.db, {
			email: uniqueEmail('rest'),
			password_hash: await hashPassword(PASSWORD)
		});
		const targets = {
			register: uniqueEmail('rest-register'),
			// R15a: a check code goes only to an account's contact.
			check: (await insertAccount(database.db, { email: uniqueEmail('rest-check') })).email!,
			appeal: uniqueEmail('rest-appeal'),
			password_reset: owner.email!,
			contact_change: uniqueEmail('rest-change')
		};
		expect(
			await startRegistration(
				app,
				{ identifier: targets.register, password: PASSWORD, country: 'CN' },
				{ ...meta, starter: 'a'.repeat(32) }
			)
		).toMatchObject({ ok: true });
		expect(
			await requestVerificationCode(app, { identifier: targets.check, purpose: 'check' }, meta)
		).toMatchObject({ ok: true });
		expect(
			await requestVerificationCode(app, { identifier: targets.appeal, purpose: 'appeal' }, meta)
		).toMatchObject({ ok: true });
		expect(
			await requestPasswordReset(app, { identifier: targets.password_reset }, meta)
		).toMatchObject({ ok: true });
		const account = await database.db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', owner.id)
			.executeTakeFirstOrThrow();
		expect(
			await startContactChange(
				app,
				account,
				{ currentPassword: PASSWORD, newIdentifier: targets.contact_change },
				meta
			)
		).toMatchObject({ ok: true });
		for (const [purpose, to] of Object.entries(targets)) {
			const [message] = await listOutboxFor(app, to);
			expect(message?.code, purpose).toMatch(/^\d{6}$/);
			codes.set(purpose, message!.code!);
		}
		const agent = await createAgent(app, {
			username: `rest-${Date.now().toString(36)}`,
			password: AGENT_PASSWORD,
			role: 'agent'
		});
		if (!agent.ok) throw new Error(agent.problem);
		agentId = agent.agent.id;
		const { response } = await fileAppeal(app, { identifier: owner.email! });
		expect(response.status).toBe(201);
		documentIds = (await database.db.selectFrom('appeal_documents').select('id').execute()).map(
			(d) => d.id
		);
		expect(documentIds.length).toBeGreaterThan(0);
	});
	afterAll(() => database.dispose());

	it('R6: a copy of the database holds no code of any purpose, no message text and no TOTP secret in clear', async () => {
		const copy = await copyOfTheDatabase(database);
		expect(codes.size).toBe(5);
		for (const [purpose, code] of codes)
			expect(inClear(copy, code), `${purpose} code ${code}`).toBe(false);
		expect(copy).not.toMatch(/verification code|is your .*code/i);
		const agent = await database.db
			.selectFrom('agents')
			.select('totp_key')
			.where('id', '=', agentId)
			.executeTakeFirstOrThrow();
		expect(agent.totp_key).toMatch(/^v1\./);
	});

	it('without the key ring, neither outbox payloads nor TOTP secrets nor documents can be read', async () => {
		const thief = testKeyring(99, 'guess');
		const { recipient } = await database.db
			.selectFrom('outbox')
			.select('recipient')
			.where('payload', 'is not', null)
			.executeTakeFirstOrThrow();
		await expect(listOutboxFor({ ...app, keys: thief }, recipient)).rejects.toThrow();
		const agent = await database.db
			.selectFrom('agents')
			.select(['id', 'totp_key'])
			.where('id', '=', agentId)
			.executeTakeFirstOrThrow();
		expect(() => thief.open('totp', agent.id, agent.totp_key!)).toThrow();
		for (const id of documentIds)
			expect(await readDocument({ ...app, keys: thief }, id)).toBeNull();
		// The right ring opens all of it.
		for (const id of documentIds) expect(await readDocument(app, id)).not.toBeNull();
	});

	it('key rotation: a new key in front, keys:rotate re-seals everything, then the old key can go', async () => {
		const oldKey = { kid: 'test', key: Buffer.alloc(32, 7) };
		const newKey = { kid: 'next', key: Buffer.alloc(32, 8) };
		const both: Keyring = keyringFrom([newKey, oldKey]);
		const first = await rotateSealed({ ...app, keys: both });
		expect(first.resealed['outbox.payload']).toBeGreaterThan(0);
		expect(first.resealed['agents.totp_key']).toBe(1);
		expect(first.resealed['appeal_document_contents.wrapped_key']).toBe(documentIds.length);
		expect(Object.values(first.unreadable).every((n) => n === 0)).toBe(true);
		// Idempotent: nothing left to re-seal.
		expect(
			Object.values((await rotateSealed({ ...app, keys: both })).resealed).every((n) => n === 0)
		).toBe(true);

		const onlyNew = keyringFrom([newKey]);
		const rotatedApp = { ...app, keys: onlyNew };
		const { recipient } = await database.db
			.selectFrom('outbox')
			.select('recipient')
			.where('payload', 'is not', null)
			.executeTakeFirstOrThrow();
		const [message] = await listOutboxFor(rotatedApp, recipient);
		expect(message?.text.length).toBeGreaterThan(0);
		for (const id of documentIds) expect(await readDocument(rotatedApp, id)).not.toBeNull();
		const agent = await database.db
			.selectFrom('agents')
			.select(['id', 'username', 'totp_key'])
			.where('id', '=', agentId)
			.executeTakeFirstOrThrow();
		const secret = onlyNew.open('totp', agent.id, agent.totp_key!);
		const signedIn = await signInAgent(
			rotatedApp,
			{
				username: agent.username,
				password: AGENT_PASSWORD,
				otp: totpCode(secret, totpStep(app.clock))
			},
			{ ip: '1.0.1.9' }
		);
		expect(signedIn).toMatchObject({ ok: true });
		// And the old key alone no longer opens what was re-sealed.
		expect(() => keyringFrom([oldKey]).open('totp', agent.id, agent.totp_key!)).toThrow();
	});
});
