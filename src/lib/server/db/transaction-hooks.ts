import type { DatabaseConnection, Dialect as KyselyDialect, Driver, Kysely } from 'kysely';
import { log } from '../core/log';

/**
 * Work done outside the database on behalf of a transaction, taken back if the transaction rolls
 * back. The rate-limit counters are the one user: the database store counts inside the caller's
 * transaction, so a rollback takes its hits back; the Redis store (`platform/limits-redis.ts`)
 * registers the inverse of each change here, so a rollback means the same for both.
 *
 * The seam is the driver: every Kysely transaction (`db.transaction().execute`, and a controlled
 * one) begins, commits and rolls back through it on one connection, so no caller has to use a
 * helper of its own. A transaction's connection is the one its executor provides.
 */
type Undo = () => Promise<unknown>;

const open = new WeakMap<DatabaseConnection, Undo[]>();

/** `dialect` with its driver hooked: on rollback, the undos registered in that transaction run. */
export function withTransactionHooks(dialect: KyselyDialect): KyselyDialect {
	return {
		createAdapter: () => dialect.createAdapter(),
		createQueryCompiler: () => dialect.createQueryCompiler(),
		createIntrospector: (db) => dialect.createIntrospector(db),
		createDriver: () => hookedDriver(dialect.createDriver())
	};
}

function hookedDriver(driver: Driver): Driver {
	const hooked: Driver = {
		init: () => driver.init(),
		acquireConnection: () => driver.acquireConnection(),
		releaseConnection: (connection) => driver.releaseConnection(connection),
		destroy: () => driver.destroy(),
		async beginTransaction(connection, settings) {
			await driver.beginTransaction(connection, settings);
			open.set(connection, []);
		},
		async commitTransaction(connection) {
			// A commit that fails is followed by a rollback, which still finds the undos.
			await driver.commitTransaction(connection);
			open.delete(connection);
		},
		async rollbackTransaction(connection) {
			const undos = open.get(connection) ?? [];
			open.delete(connection);
			try {
				await driver.rollbackTransaction(connection);
			} finally {
				await runUndos(undos);
			}
		}
	};
	if (driver.savepoint) hooked.savepoint = driver.savepoint.bind(driver);
	if (driver.rollbackToSavepoint)
		hooked.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver);
	if (driver.releaseSavepoint) hooked.releaseSavepoint = driver.releaseSavepoint.bind(driver);
	return hooked;
}

async function runUndos(undos: Undo[]): Promise<void> {
	// Newest first, as the database undoes its own writes.
	for (const undo of undos.reverse()) {
		try {
			await undo();
		} catch (error) {
			// The count stays: the stricter side. Said once per failure, never with keys.
			log.error({
				event: 'db.rollback_undo_failed',
				message: error instanceof Error ? error.message : String(error)
			});
		}
	}
}

/**
 * When `db` is a transaction: `undo` runs if it rolls back (and is forgotten if it commits); true.
 * Outside a transaction there is nothing to take back: false, and `undo` never runs.
 */
export async function onRollback(
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database schema
	db: Kysely<any>,
	undo: Undo
): Promise<boolean> {
	if (!db.isTransaction) return false;
	// The transaction's executor provides exactly the connection its driver began it on.
	const connection = await db.getExecutor().provideConnection(async (c) => c);
	const undos = open.get(connection);
	if (!undos) return false;
	undos.push(undo);
	return true;
}
