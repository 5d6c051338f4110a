// `npm run seed -- --accounts N [--database-url URL] [--seed S]`: fills a database with realistic
// buyer accounts, contact-change histories, pending and expired codes, devices and a few appeals.
// Data is deterministic for a given --seed, so benchmark runs see the same database.
import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { parseDatabaseUrl } from '../src/lib/server/core/config';
import type { DatabaseHandle } from '../src/lib/server/db/database';
import { hashPassword } from '../src/lib/server/accounts/passwords';
import { orExit, openScriptDatabase, scriptConfig } from './script-context';
import { phone } from './seed/phones';

const MAX_ACCOUNTS = 5_000_000;
const BATCH = 50_000;
const DAY = 86_400_000;

function argument(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : undefined;
}

const accounts = Number(argument('accounts') ?? '10000');
if (!Number.isInteger(accounts) || accounts < 1 || accounts > MAX_ACCOUNTS) {
	console.error(`--accounts must be an integer from 1 to ${MAX_ACCOUNTS}`);
	process.exit(2);
}
// The server's configuration as `npm run dev` reads it (same database and key ring by default).
const config = await orExit(() => {
	const env = scriptConfig();
	const url = argument('database-url');
	return url ? { ...env, database: parseDatabaseUrl(url) } : env;
});
const target = config.database;
if (target.kind === 'sqlite' && target.path === ':memory:') {
	console.error('error: seed a file or a PostgreSQL database, not :memory:');
	process.exit(2);
}
const seed = Number(argument('seed') ?? '1');
const NOW = Date.now();

// mulberry32: fast, seedable; cryptographic quality is not needed for fake data.
let state = seed >>> 0 || 1;
function random(): number {
	state = (state + 0x6d2b79f5) >>> 0;
	let t = state;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (max: number) => Math.floor(random() * max);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const hex = (bytes: number) => {
	let s = '';
	for (let i = 0; i < bytes; i += 1) s += HEX[int(256)];
	return s;
};

/** UUIDv7 from an instant: ids sort by creation, so primary-key inserts append to the B-tree. */
function uuid7(ms: number): string {
	const t = ms.toString(16).padStart(12, '0');
	const r = hex(10);
	return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${((int(4) + 8) as number).toString(16)}${r.slice(3, 6)}-${r.slice(6, 18)}`;
}

const FIRST = [
	'li',
	'wang',
	'zhang',
	'liu',
	'chen',
	'yang',
	'anna',
	'maria',
	'john',
	'james',
	'olga',
	'ivan',
	'sofia',
	'lucas',
	'emma',
	'noah',
	'mei',
	'hui',
	'ahmed',
	'fatima',
	'yuki',
	'kenji',
	'priya',
	'arjun'
];
const LAST = [
	'wei',
	'ming',
	'fang',
	'jing',
	'smith',
	'jones',
	'garcia',
	'ivanova',
	'petrov',
	'silva',
	'kim',
	'nguyen',
	'tanaka',
	'khan',
	'mueller',
	'rossi',
	'dubois',
	'lopez'
];
// Normalized as identifiers.ts stores them: lower case, IDN domains in punycode (R1).
const DOMAINS = [
	'gmail.com',
	'qq.com',
	'163.com',
	'outlook.com',
	'yahoo.com',
	'mail.ru',
	'icloud.com',
	'hotmail.com',
	'acme-trading.com',
	'xn--55qx5d.cn',
	'yandex.ru',
	'proton.me'
];
const COUNTRIES = ['CN', 'CN', 'CN', 'US', 'RU', 'GB', 'DE', 'BR', 'FR', 'ES', 'KZ', 'IN'];

function email(i: number): string {
	const first = pick(FIRST);
	const separator = pick(['.', '_', '', '.']);
	const tag = int(20) === 0 ? `+shop${int(10)}` : '';
	return `${first}${separator}${pick(LAST)}${i}${tag}@${pick(DOMAINS)}`;
}

type Row = Record<string, string | number | null>;
type Tables = {
	devices: Row[];
	accounts: Row[];
	contact_changes: Row[];
	verification_codes: Row[];
};

const PURPOSES = ['check', 'password_reset', 'contact_change'] as const;

/** Accounts [from, to) with everything that hangs off them; created_at grows with i. */
function generate(from: number, to: number, passwordHash: string): Tables {
	const out: Tables = { devices: [], accounts: [], contact_changes: [], verification_codes: [] };
	const span = 730 * DAY;
	let device: string | null = null;
	for (let i = from; i < to; i += 1) {
		const createdAt = NOW - span + Math.floor((span * i) / accounts) + int(60_000);
		const kind = random();
		const hasEmail = kind < 0.7;
		const hasPhone = kind >= 0.55;
		const address = hasEmail ? email(i) : null;
		const number = hasPhone ? phone(i) : null;
		const country = number?.startsWith('+86')
			? 'CN'
			: number?.startsWith('+1')
				? 'US'
				: number?.startsWith('+7')
					? 'RU'
					: number?.startsWith('+44')
						? 'GB'
						: pick(COUNTRIES);
		const s = random();
		// Mostly active; R9 reviews and disabled accounts at realistic rates.
		const status = s < 0.94 ? 'active' : s < 0.98 ? 'under_review' : 'disabled';
		const id = uuid7(createdAt);
		// R10: every 50th account shares its device with the one before it and is flagged.
		let regDevice: string | null = null;
		let flagged = 0;
		if (i % 50 === 49) {
			device = hex(32);
			out.devices.push({ id: device, created_at: createdAt, last_seen_at: createdAt + DAY });
			regDevice = device;
		} else if (i % 50 === 0 && device) {
			regDevice = device;
			flagged = 1;
			device = null;
		}
		out.accounts.push({
			id,
			email: address,
			phone: number,
			password_hash: passwordHash,
			status,
			country,
			locale: country === 'CN' ? 'zh-CN' : 'en',
			created_at: createdAt,
			// R11: most buyers order within 72 h; the rest are low_activity.
			first_order_at: random() < 0.75 ? createdAt + int(72 * 3_600_000) : null,
			reg_ip_country:
				status === 'under_review'
					? pick(COUNTRIES.filter((c) => c !== country))
					: random() < 0.1
						? null
						: country,
			reg_device_id: regDevice,
			multiple_accounts_on_device: flagged,
			review_decided_at: null,
			review_decided_by: null
		});
		// R16 histories: ~20 % changed a contact once, ~5 % twice, some inside the 180-day window.
		const changes = random() < 0.2 ? (random() < 0.25 ? 2 : 1) : 0;
		const current = address ?? (number as string);
		let at = Math.min(NOW - 3_600_000, createdAt + int(300 * DAY));
		for (let c = 0; c < changes; c += 1) {
			out.contact_changes.push({
				id: uuid7(at),
				account_id: id,
				kind: random() < 0.03 ? 'appeal' : 'owner',
				old_identifier: address
					? `old${c}.${i}@${pick(DOMAINS)}`
					: phone(i + MAX_ACCOUNTS * (c + 1)),
				new_identifier: current,
				changed_at: at
			});
			at = Math.min(NOW - 60_000, at + 8 * DAY + int(90 * DAY));
		}
		// R6: ~1 % have a live code, ~1 % an expired unused one, ~1 % a used one.
		const code = random();
		if (code < 0.03) {
			const issued = code < 0.01 ? NOW - int(240_000) : NOW - 600_000 - int(30 * DAY);
			const codeId = uuid7(issued);
			out.verification_codes.push({
				id: codeId,
				purpose: pick(PURPOSES),
				identifier: current,
				code_hash: createHash('sha256').update(codeId).digest('hex'),
				attempts: int(3),
				created_at: issued,
				expires_at: issued + 300_000,
				consumed_at: code >= 0.02 ? issued + int(300_000) : null,
				account_id: id,
				payload: null
			});
		}
	}
	return out;
}

const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const APPEAL_STATUSES = [
	'submitted',
	'submitted',
	'in_review',
	'needs_info',
	'approved',
	'rejected'
] as const;

/** R19/R20: a few appeals over random accounts; some open ones already overdue. */
function appeals(accountRows: { id: string; email: string | null; phone: string | null }[]): Row[] {
	const references = new Set<string>();
	return accountRows.map((a, k) => {
		let reference = '';
		while (reference === '' || references.has(reference)) {
			reference = '';
			for (let i = 0; i < 8; i += 1) reference += REFERENCE_ALPHABET[int(32)];
		}
		references.add(reference);
		const status = APPEAL_STATUSES[k % APPEAL_STATUSES.length] as (typeof APPEAL_STATUSES)[number];
		const createdAt = NOW - int(4 * DAY);
		const decided = status === 'approved' || status === 'rejected';
		return {
			id: uuid7(createdAt),
			reference,
			status_token_hash: hex(32),
			account_id: a.id,
			old_identifier: a.email ?? (a.phone as string),
			new_identifier: `recovered.${k}@${pick(DOMAINS)}`,
			description: 'I lost the phone that had my old SIM card and cannot receive codes any more.',
			status,
			locale: 'en',
			created_at: createdAt,
			due_at: createdAt + 2 * DAY,
			updated_at: createdAt,
			assigned_agent_id: null,
			decided_at: decided ? createdAt + DAY : null,
			decided_by: null,
			decision_reason: status === 'rejected' ? 'The documents do not match the account.' : null,
			claimed_at: null,
			first_approval_by: null,
			first_approval_at: null
		};
	});
}

interface Writer {
	/** Called once the database is known to be empty, before the first row. */
	start(): void;
	write(table: string, rows: Row[]): Promise<void>;
	transaction(fn: () => Promise<void>): Promise<void>;
	sampleAccounts(n: number): Promise<{ id: string; email: string | null; phone: string | null }[]>;
	count(): Promise<number>;
	finish(): Promise<void>;
}

/** better-sqlite3 prepared statements, one transaction per batch, journal off while loading. */
function sqliteWriter(path: string): Writer {
	const sqlite = new BetterSqlite3(path);
	sqlite.pragma('journal_mode = OFF');
	sqlite.pragma('synchronous = OFF');
	sqlite.pragma('cache_size = -1000000');
	sqlite.pragma('temp_store = MEMORY');
	// Secondary indexes are built once after the load (a sort) instead of row by row (random inserts).
	const indexes = sqlite
		.prepare(
			"select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('accounts', 'contact_changes', 'verification_codes', 'devices')"
		)
		.all() as { name: string; sql: string }[];
	let dropped = false;
	const statements = new Map<
		string,
		{ columns: string[]; one: BetterSqlite3.Statement; many: BetterSqlite3.Statement }
	>();
	const PER_STATEMENT = 32;
	const prepared = (table: string, columns: string[]) => {
		let s = statements.get(table);
		if (!s) {
			const tuple = `(${columns.map(() => '?').join(',')})`;
			const head = `insert into ${table} (${columns.join(',')}) values `;
			s = {
				columns,
				one: sqlite.prepare(head + tuple),
				many: sqlite.prepare(head + Array(PER_STATEMENT).fill(tuple).join(','))
			};
			statements.set(table, s);
		}
		return s;
	};
	return {
		start() {
			for (const index of indexes) sqlite.exec(`drop index ${index.name}`);
			dropped = true;
		},
		async write(table, rows) {
			if (rows.length === 0) return;
			const { columns, one, many } = prepared(table, Object.keys(rows[0] as Row));
			let i = 0;
			const values: (string | number | null)[] = [];
			for (; i + PER_STATEMENT <= rows.length; i += PER_STATEMENT) {
				values.length = 0;
				for (let r = i; r < i + PER_STATEMENT; r += 1)
					for (const c of columns) values.push((rows[r] as Row)[c] ?? null);
				many.run(values);
			}
			for (; i < rows.length; i += 1) one.run(columns.map((c) => (rows[i] as Row)[c] ?? null));
		},
		async transaction(fn) {
			sqlite.exec('begin');
			try {
				await fn();
				sqlite.exec('commit');
			} catch (error) {
				sqlite.exec('rollback');
				throw error;
			}
		},
		async sampleAccounts(n) {
			return sqlite
				.prepare(
					'select id, email, phone from accounts where rowid in (select rowid from accounts order by random() limit ?)'
				)
				.all(n) as { id: string; email: string | null; phone: string | null }[];
		},
		async count() {
			return (sqlite.prepare('select count(*) as n from accounts').get() as { n: number }).n;
		},
		async finish() {
			if (dropped) for (const index of indexes) sqlite.exec(index.sql);
			sqlite.exec('analyze');
			sqlite.pragma('journal_mode = WAL');
			sqlite.close();
		}
	};
}

/** PostgreSQL through Kysely: multi-row inserts under the 65,535-parameter limit. */
function postgresWriter(handle: DatabaseHandle): Writer {
	// Dynamic table names: the rows are built above for exactly these tables' columns.
	const db = handle.db as unknown as import('kysely').Kysely<Record<string, Row>>;
	let trx: import('kysely').Kysely<Record<string, Row>> = db;
	return {
		start() {},
		async write(table, rows) {
			if (rows.length === 0) return;
			const chunk = Math.floor(60_000 / Object.keys(rows[0] as Row).length);
			for (let i = 0; i < rows.length; i += chunk)
				await trx
					.insertInto(table)
					.values(rows.slice(i, i + chunk))
					.execute();
		},
		async transaction(fn) {
			await db.transaction().execute(async (t) => {
				trx = t;
				try {
					await fn();
				} finally {
					trx = db;
				}
			});
		},
		async sampleAccounts(n) {
			const { sql } = await import('kysely');
			const result = await sql<{
				id: string;
				email: string | null;
				phone: string | null;
			}>`select id, email, phone from accounts order by random() limit ${n}`.execute(db);
			return result.rows;
		},
		async count() {
			const row = await db
				.selectFrom('accounts')
				.select((eb) => eb.fn.countAll<number>().as('n'))
				.executeTakeFirstOrThrow();
			return Number(row.n);
		},
		async finish() {
			const { sql } = await import('kysely');
			await sql`analyze`.execute(db);
			await handle.close();
		}
	};
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

// Migrations and the key check first, through the application's own code path.
const { handle } = await orExit(() => openScriptDatabase(config));
let writer: Writer;
if (target.kind === 'sqlite') {
	await handle.close();
	writer = sqliteWriter(target.path);
} else {
	writer = postgresWriter(handle);
}

const existing = await writer.count();
if (existing > 0) {
	console.error(
		`The database already holds ${existing} accounts; seed an empty one (new file or schema).`
	);
	await writer.finish();
	process.exit(1);
}

// argon2id is far too slow per row: one real hash (password "seed-password-1"), shared by every account.
const passwordHash = await hashPassword('seed-password-1');
const totals = { devices: 0, accounts: 0, contact_changes: 0, verification_codes: 0, appeals: 0 };
let loaded: string | undefined;
writer.start();
try {
	for (let from = 0; from < accounts; from += BATCH) {
		const rows = generate(from, Math.min(accounts, from + BATCH), passwordHash);
		await writer.transaction(async () => {
			for (const table of [
				'devices',
				'accounts',
				'contact_changes',
				'verification_codes'
			] as const) {
				await writer.write(table, rows[table]);
				totals[table] += rows[table].length;
			}
		});
		if (process.stdout.isTTY) process.stdout.write(`\r${totals.accounts} accounts (${elapsed()})`);
	}
	if (process.stdout.isTTY) process.stdout.write('\n');
	const appealRows = appeals(
		await writer.sampleAccounts(Math.min(500, Math.max(6, Math.round(accounts / 5000))))
	);
	await writer.transaction(() => writer.write('appeals', appealRows));
	totals.appeals = appealRows.length;
	loaded = elapsed();
} finally {
	// Also after a failure: the indexes dropped for the load come back.
	await writer.finish();
}
console.log(
	`seeded ${target.kind} in ${elapsed()} (rows loaded in ${loaded}, then indexes and analyze): ` +
		Object.entries(totals)
			.map(([t, n]) => `${n} ${t}`)
			.join(', ')
);
console.log('every seeded account signs in with the password "seed-password-1"');
