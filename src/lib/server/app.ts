import { createDocumentPool, importLegacyDocumentFiles, startRecoveryJobs } from './appeals';
import { AdjustableClock, systemClock, type Clock } from './core/clock';
import { ConfigError, type Config } from './core/config';
import type { AppContext } from './core/context';
import { openKeyCheck } from './core/key-check';
import { KeyringError, keyringForConfig, type Keyring } from './core/keys';
import { log } from './core/log';
import { openDatabase, type DatabaseHandle } from './db/database';
import { migrateToLatest } from './db/migrate';
import { createWriteBehind } from './db/write-behind';
import { registerDatabaseGauges } from './gauges';
import { MAX_BUFFERED_PER_NETWORK, MAX_BUFFERED_UPLOAD_BYTES } from './http/multipart';
import { startErasureJob } from './data-rights';
import { createTransports, createOutboxWorker } from './messaging';
import { createByteBudget } from './platform/byte-budget';
import { openGeoIp, type GeoIp } from './platform/geoip';
import { claimSqliteFile, type InstanceClaim } from './platform/instance-claim';
import { sqlRateLimitStore, type RateLimitStore } from './platform/limits';
import { memoryRateLimitStore } from './platform/limits-memory';
import { createMetrics } from './platform/metrics';
import type { WorkerPool } from './platform/worker-pool';
import { purgeExpiredDocuments, startRetention } from './retention';
import { createWebhookWorker, webhookEvents } from './webhooks';

/**
 * The composition root: the one place that builds a context (`createAppContext`), for the
 * server process, the tests and the scripts alike, and starts the background jobs.
 */

/** What a context is built from; whatever is not given is made here. */
export interface ContextParts {
	database: DatabaseHandle;
	clock?: Clock;
	keys?: Keyring;
	geoip?: GeoIp;
	limits?: RateLimitStore;
	workers?: WorkerPool;
	/** Closed with the context; a test's shared database is not. */
	ownsDatabase?: boolean;
}

export function createAppContext(config: Config, parts: ContextParts): AppContext {
	const testClock = config.testHooks ? new AdjustableClock() : undefined;
	const { database } = parts;
	const metrics = createMetrics();
	registerDatabaseGauges(metrics);
	const failed = (table: string) => metrics.writeBehindFailures.inc({ table });
	// R15, docs/rules.md §9: without Redis, an SQLite deployment (one instance) counts in the
	// process and writes behind; PostgreSQL, which several instances share, counts in the table.
	const limits =
		parts.limits ??
		(database.dialect === 'sqlite'
			? memoryRateLimitStore(database.db, { onFlushFailed: () => failed('rate_limits') })
			: sqlRateLimitStore());
	const writeBehind = createWriteBehind(database.db, { onFailed: failed });
	const workers = parts.workers ?? createDocumentPool();
	return {
		config,
		database,
		db: database.db,
		dialect: database.dialect,
		clock: parts.clock ?? testClock ?? systemClock,
		testClock,
		keys:
			parts.keys ??
			keyringForConfig(config, (message) => log.warn({ event: 'keys.generated', message })),
		geoip: parts.geoip ?? openGeoIp(config.geoipDbPath),
		limits,
		log,
		workers,
		uploads: createByteBudget({
			total: MAX_BUFFERED_UPLOAD_BYTES,
			perNetwork: MAX_BUFFERED_PER_NETWORK
		}),
		metrics,
		writeBehind,
		// R27: audited events become webhook deliveries (none stored without WEBHOOK_URL).
		events: webhookEvents,
		async close() {
			await writeBehind.flush();
			await Promise.all([limits.close(), parts.workers ? undefined : workers.close()]);
			if (parts.ownsDatabase) await database.close();
		}
	};
}

/** How a refusal names the database: the SQLite path, or PostgreSQL's host and name (no password). */
function databaseName(target: Config['database']): string {
	if (target.kind === 'sqlite') return `the database ${target.path}`;
	const url = URL.canParse(target.url) ? new URL(target.url) : undefined;
	return url ? `the PostgreSQL database ${url.host}${url.pathname}` : 'the PostgreSQL database';
}

/**
 * The database migrated, then its key check opened with the ring (core/key-check.ts): a ring that
 * is not this database's own stops the process here, before anything is served or sealed.
 * Returns the names of the migrations applied now.
 */
export async function prepareDatabase(
	config: Config,
	database: DatabaseHandle,
	keys: Keyring,
	clock: Clock = systemClock
): Promise<string[]> {
	const migrated = await migrateToLatest(database, { keys });
	await openKeyCheck({ db: database.db, keys, clock }, databaseName(config.database));
	return migrated.results?.map((r) => r.migrationName) ?? [];
}

/**
 * A context for a process: the key ring first (a production server without it never opens the
 * database), then the database migrated and its key check opened, legacy document files
 * imported and Redis reached.
 */
export async function openAppContext(
	config: Config,
	parts: Partial<ContextParts> = {}
): Promise<AppContext> {
	const keys =
		parts.keys ??
		keyringForConfig(config, (message) => log.warn({ event: 'keys.generated', message }));
	const database = parts.database ?? openDatabase(config.database);
	try {
		await prepareDatabase(config, database, keys, parts.clock);
		// docs/rules.md §9: rate limits in Redis when REDIS_URL is set, in the database otherwise.
		// Loaded only then: ioredis adds ~13 MB to a process that never talks to Redis.
		const limits = config.redisUrl
			? await (await import('./platform/limits-redis')).openRedisRateLimitStore(config.redisUrl)
			: parts.limits;
		const ctx = createAppContext(config, {
			...parts,
			database,
			keys,
			limits,
			ownsDatabase: parts.database === undefined
		});
		// R19: documents earlier versions kept as files move into the encrypted, shared store.
		const moved = await importLegacyDocumentFiles(ctx, config.appeals.storageDir);
		if (moved > 0) log.info({ event: 'documents.imported', moved });
		return ctx;
	} catch (error) {
		if (parts.database === undefined) await database.close();
		throw error;
	}
}

/** The one line to print for a start-up failure the operator must fix, or null for any other. */
export function startupProblem(error: unknown): string | null {
	if (error instanceof KeyringError || error instanceof ConfigError)
		return `Account Security Check cannot start: ${error.message}`;
	return null;
}

const claims = new WeakMap<AppContext, InstanceClaim>();

/**
 * The server's context. R15: with SQLite and no Redis the rate limits are counted in this
 * process, so the server claims the file first — before migrations, the key check or the
 * document import touch it — and a second server on the same file stops with one line.
 */
export async function openServerContext(config: Config): Promise<AppContext> {
	const { database, redisUrl } = config;
	const claim =
		database.kind === 'sqlite' && !redisUrl && database.path !== ':memory:'
			? claimSqliteFile(database.path)
			: undefined;
	try {
		const ctx = await openAppContext(config);
		if (claim) claims.set(ctx, claim);
		return ctx;
	} catch (error) {
		claim?.release();
		throw error;
	}
}

/** R7 and retention: the jobs of one process; several processes share the work safely. */
export function startBackgroundJobs(ctx: AppContext): void {
	const claim = claims.get(ctx);
	const transports = createTransports(ctx.config);
	for (const channel of ['email', 'sms'] as const) {
		if (!transports[channel]) {
			log.warn({
				event: 'delivery.unconfigured',
				channel,
				message: `no ${channel} transport (${channel === 'email' ? 'SMTP_URL' : 'SMS_GATEWAY_URL/SMS_GATEWAY_TOKEN'}): messages wait in the outbox; the dev outbox is off in production`
			});
		}
	}
	const worker = createOutboxWorker({
		db: ctx.db,
		clock: ctx.clock,
		keys: ctx.keys,
		keepText: ctx.config.testHooks,
		transports,
		// R7: backoff is capped at 10 min, so 40 tries outlast a gateway outage of about 5 hours.
		maxAttempts: 40,
		log: (event, data) => log.info({ event, ...data })
	});
	worker.start();
	// R27: signed webhooks, in order per account, retried for 24 hours; off without WEBHOOK_URL.
	const webhooks = ctx.config.webhooks
		? createWebhookWorker({
				db: ctx.db,
				clock: ctx.clock,
				secret: ctx.config.webhooks.secret,
				log: (event, data) => log.info({ event, ...data })
			})
		: undefined;
	webhooks?.start();
	// Every table that grows is trimmed to its policy (docs/DATA.md), hourly, safe with many instances.
	const retention = startRetention(ctx);
	// Rules §8a: held rebinds that fell due, and the daily reminders during a hold; every minute.
	const recovery = startRecoveryJobs(ctx);
	// R28: accounts whose owner's deletion fell due are erased; every minute.
	const erasure = startErasureJob(ctx);
	// R19: identity documents go APPEAL_DOCUMENT_RETENTION_DAYS after the decision; hourly is plenty.
	const purge = setInterval(() => {
		purgeExpiredDocuments(ctx).catch((error: unknown) =>
			log.error({ event: 'retention.purge_failed', message: (error as Error)?.message })
		);
	}, 3_600_000);
	purge.unref();
	// adapter-node's graceful shutdown: finish the message in flight, then close the context
	// (which stores what is written behind: check events, the in-process rate limits).
	process.once('sveltekit:shutdown', () => {
		clearInterval(purge);
		void Promise.all([
			worker.stop(),
			webhooks?.stop(),
			retention.stop(),
			recovery.stop(),
			erasure.stop()
		])
			.then(() => ctx.close())
			.finally(() => claim?.release());
	});
}
