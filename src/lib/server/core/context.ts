import { AdjustableClock, systemClock, type Clock } from './clock';
import { ConfigError, parseConfig, type Config } from './config';
import { openDatabase, type DatabaseHandle, type DatabaseTarget } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { importLegacyDocumentFiles } from '../appeals/documents/store';
import { openGeoIp, type GeoIp } from '../platform/geoip';
import { purgeExpiredDocuments } from '../retention/documents';
import { createTransports } from '../messaging/transports';
import { createOutboxWorker } from '../messaging/worker';
import { closeRateLimitStore, configureRateLimitStore } from '../platform/limits';
import { openRedisRateLimitStore } from '../platform/limits-redis';
import { log } from './log';
import { startRetention } from '../retention/tables';
import { KeyringError, keyringForConfig, type Keyring } from './keys';

/** What every server module needs, built once per process (or once per test). */
export interface AppContext {
	config: Config;
	database: DatabaseHandle;
	clock: Clock;
	/** Present only with APP_TEST_HOOKS=1: the clock the test endpoint moves. */
	testClock: AdjustableClock | undefined;
	geoip: GeoIp;
	keys: Keyring;
}

export async function createAppContext(
	config: Config,
	overrides: { database?: DatabaseTarget; clock?: Clock; geoip?: GeoIp } = {}
): Promise<AppContext> {
	const testClock = config.testHooks ? new AdjustableClock() : undefined;
	const clock = overrides.clock ?? testClock ?? systemClock;
	// Keys first: a production server without its key ring never opens the database.
	const keys = keyringForConfig(config, (message) => log.warn({ event: 'keys.generated', message }));
	const database = openDatabase(overrides.database ?? config.database);
	try {
		await migrateToLatest(database, { keys });
		// R19: documents earlier versions kept as files move into the encrypted, shared store.
		const moved = await importLegacyDocumentFiles(database.db, keys, config.appeals.storageDir);
		if (moved > 0) log.info({ event: 'documents.imported', moved });
		// docs/rules.md §9: rate limits in Redis when REDIS_URL is set, in the database otherwise.
		if (config.redisUrl) configureRateLimitStore(await openRedisRateLimitStore(config.redisUrl, { clock }));
	} catch (error) {
		await database.close();
		throw error;
	}
	return {
		config,
		database,
		clock,
		testClock,
		geoip: overrides.geoip ?? openGeoIp(config.geoipDbPath),
		keys
	};
}

let app: Promise<AppContext> | undefined;

/** The process-wide context: configuration checked, migrations applied, before the first request. */
export function getAppContext(): Promise<AppContext> {
	app ??= createAppContext(parseConfig(process.env)).then((context) => {
		startDelivery(context);
		return context;
	});
	return app;
}

/** The one line to print for a start-up failure the operator must fix, or null for any other. */
export function startupProblem(error: unknown): string | null {
	if (error instanceof KeyringError || error instanceof ConfigError) return `Account Security Check cannot start: ${error.message}`;
	return null;
}

/** R7: the outbox worker of this process; several processes share the work safely. */
function startDelivery(context: AppContext): void {
	const transports = createTransports(context.config);
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
		db: context.database.db,
		clock: context.clock,
		keys: context.keys,
		keepText: context.config.testHooks,
		transports,
		// R7: backoff is capped at 10 min, so 40 tries outlast a gateway outage of about 5 hours.
		maxAttempts: 40,
		log: (event, data) => log.info({ event, ...data })
	});
	worker.start();
	// Every table that grows is trimmed to its policy (docs/DATA.md), hourly, safe with many instances.
	const retention = startRetention(context);
	// R19: identity documents go APPEAL_DOCUMENT_RETENTION_DAYS after the decision; hourly is plenty.
	const purge = setInterval(() => {
		purgeExpiredDocuments(context).catch((error: unknown) => log.error({ event: 'retention.purge_failed', message: (error as Error)?.message }));
	}, 3_600_000);
	purge.unref();
	// adapter-node's graceful shutdown: finish the message in flight, then close the database.
	process.once('sveltekit:shutdown', () => {
		clearInterval(purge);
		void Promise.all([worker.stop(), retention.stop(), closeRateLimitStore()]).then(() => context.database.close());
	});
}
