import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { log } from '../core/log';
import type { Database } from './schema';
import { withTransactionHooks } from './transaction-hooks';

export type Dialect = 'sqlite' | 'postgres';

export type DatabaseTarget =
	| { kind: 'sqlite'; path: string }
	| { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

export type Db = Kysely<Database>;

export interface DatabaseHandle {
	db: Db;
	dialect: Dialect;
	/** PostgreSQL schema holding the tables (tests give each run its own). */
	schema: string | undefined;
	close(): Promise<void>;
}

// Instants are bigint milliseconds; they fit a JS number until the year 287,396.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/**
 * Kysely prepares every statement anew; the same few hundred SQL strings recur on every request,
 * so compiled statements are kept (bounded). Statements are reusable once a call returns.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, limit = 500) {
	const cache = new Map<string, BetterSqlite3.Statement>();
	return {
		close: () => sqlite.close(),
		prepare(sql: string) {
			let statement = cache.get(sql);
			if (!statement) {
				statement = sqlite.prepare(sql);
				if (cache.size >= limit) cache.delete(cache.keys().next().value!);
				cache.set(sql, statement);
			}
			return statement;
		}
	};
}

export function openDatabase(target: DatabaseTarget): DatabaseHandle {
	if (target.kind === 'sqlite') {
		if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
		const sqlite = new BetterSqlite3(target.path);
		// WAL lets readers run beside the single writer; the busy timeout makes writers queue
		// instead of failing with SQLITE_BUSY when several requests write at once.
		sqlite.pragma('journal_mode = WAL');
		sqlite.pragma('busy_timeout = 5000');
		sqlite.pragma('foreign_keys = ON');
		sqlite.pragma('synchronous = NORMAL');
		// A large database (1 M accounts ≈ 400 MB) reads better through more than a 2 MB page cache;
		// 16 MB keeps memory within the RSS budget (mmap counted a quarter of the file as RSS).
		sqlite.pragma('cache_size = -16384');
		const db = new Kysely<Database>({
			dialect: withTransactionHooks(new SqliteDialect({ database: withStatementCache(sqlite) }))
		});
		return { db, dialect: 'sqlite', schema: undefined, close: () => db.destroy() };
	}
	if (target.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(target.schema)) {
		throw new Error(`invalid PostgreSQL schema name: ${target.schema}`);
	}
	const pool = new pg.Pool({
		connectionString: target.url,
		max: target.poolSize ?? 10,
		connectionTimeoutMillis: 5_000,
		...(target.schema ? { options: `-c search_path=${target.schema}` } : {})
	});
	// An idle client whose server went away (restart, failover) must not crash the process; the
	// pool drops it and the next query reconnects.
	const logError = (error: Error) =>
		log.error({ event: 'db.connection_error', message: error.message });
	pool.on('error', logError);
	// A client in use when the server goes away emits its own 'error'; unheard, it would be fatal.
	pool.on('connect', (client) => client.on('error', logError));
	const db = new Kysely<Database>({ dialect: withTransactionHooks(new PostgresDialect({ pool })) });
	return { db, dialect: 'postgres', schema: target.schema, close: () => db.destroy() };
}
