import type { Logger } from 'pino';
import type { Db, DatabaseHandle, Dialect } from '../db/database';
import type { WriteBehind } from '../db/write-behind';
import type { ByteBudget } from '../platform/byte-budget';
import type { GeoIp } from '../platform/geoip';
import type { RateLimitStore } from '../platform/limits';
import type { Metrics } from '../platform/metrics';
import type { WorkerPool } from '../platform/worker-pool';
import type { AdjustableClock, Clock } from './clock';
import type { Config } from './config';
import type { AuditEntry } from './audit';
import type { Keyring } from './keys';

/**
 * R27: what happens after an audit entry is written, in the same transaction (the webhooks
 * domain stores one delivery per endpoint). Defined here so core never imports a domain.
 */
export interface EventSink {
	recorded(ctx: Ctx, entry: AuditEntry, at: number): Promise<void>;
}

/**
 * What every server function gets as its first argument: `fn(ctx, input, meta?)`. Built once per
 * process by `createAppContext` (src/lib/server/app.ts), and the same way by tests and scripts.
 * A transaction is `{ ...ctx, db: trx }`; nothing else is passed around or kept in module state.
 */
export interface Ctx {
	config: Config;
	/** The database, or the transaction in progress. */
	db: Db;
	dialect: Dialect;
	clock: Clock;
	/** Present only with APP_TEST_HOOKS=1: the clock the test endpoint moves. */
	testClock: AdjustableClock | undefined;
	keys: Keyring;
	geoip: GeoIp;
	/** docs/rules.md §9: rate-limit counters, in the database or in Redis (REDIS_URL). */
	limits: RateLimitStore;
	log: Logger;
	/** R19: the threads that parse uploads and rebuild documents, off the event loop. */
	workers: WorkerPool;
	/** R19: what request bodies being read may hold in this process at once. */
	uploads: ByteBudget;
	metrics: Metrics;
	/** Rows written behind in batches (R15: `check_events`), stored when the context closes. */
	writeBehind: WriteBehind;
	/** R27: outbound webhooks of audited events; absent in contexts that emit none. */
	events?: EventSink;
}

/** The context of a running process (or test): it owns the connections it opened. */
export interface AppContext extends Ctx {
	database: DatabaseHandle;
	close(): Promise<void>;
}
