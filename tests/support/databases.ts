import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
	openDatabase,
	type DatabaseHandle,
	type DatabaseTarget
} from '../../src/lib/server/db/database';
import { migrateToLatest } from '../../src/lib/server/db/migrate';
import { testKeyring } from '../../src/lib/server/core/keys';

/**
 * The databases every repository test runs against: in-memory SQLite always, PostgreSQL when
 * TEST_DATABASE_URL points at one — `npm test` always sets it (scripts/test-services.ts starts a
 * throw-away server when it is unset). On CI (CI=true) PostgreSQL is required, never skipped.
 */
export interface TestDatabaseKind {
	name: 'sqlite' | 'postgres';
	open(): Promise<TestDatabase>;
}

export interface TestDatabase extends DatabaseHandle {
	target: DatabaseTarget;
	/** Drops what `open` created. */
	dispose(): Promise<void>;
}

const pgUrl = process.env.TEST_DATABASE_URL;
if (process.env.CI === 'true' && !pgUrl?.startsWith('postgres')) {
	throw new Error(
		'CI=true but TEST_DATABASE_URL is not a postgres:// URL: the PostgreSQL run is required on CI.'
	);
}

async function openSqlite(): Promise<TestDatabase> {
	const target: DatabaseTarget = { kind: 'sqlite', path: ':memory:' };
	const handle = openDatabase(target);
	await migrateToLatest(handle, { keys: testKeyring() });
	return { ...handle, target, dispose: () => handle.close() };
}

/** Each PostgreSQL test database is a fresh schema, so parallel runs never see each other's rows. */
async function openPostgres(url: string): Promise<TestDatabase> {
	const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	const admin = new pg.Client({ connectionString: url });
	await admin.connect();
	await admin.query(`create schema ${schema}`);
	await admin.end();
	const target: DatabaseTarget = { kind: 'postgres', url, schema, poolSize: 25 };
	const handle = openDatabase(target);
	await migrateToLatest(handle, { keys: testKeyring() });
	return {
		...handle,
		target,
		async dispose() {
			await handle.close();
			const cleanup = new pg.Client({ connectionString: url });
			await cleanup.connect();
			await cleanup.query(`drop schema ${schema} cascade`);
			await cleanup.end();
		}
	};
}

export const testDatabases: TestDatabaseKind[] = [
	{ name: 'sqlite', open: openSqlite },
	...(pgUrl ? [{ name: 'postgres' as const, open: () => openPostgres(pgUrl) }] : [])
];
