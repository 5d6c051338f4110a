import { AdjustableClock, systemClock, type Clock } from './clock';
import { parseConfig, type Config } from './config';
import { openDatabase, type DatabaseHandle, type DatabaseTarget } from './db/database';
import { migrateToLatest } from './db/migrate';
import { openGeoIp, type GeoIp } from './geoip';
import { loadKeyring, type Keyring } from './secrets';

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
	const database = openDatabase(overrides.database ?? config.database);
	try {
		await migrateToLatest(database);
	} catch (error) {
		await database.close();
		throw error;
	}
	const testClock = config.testHooks ? new AdjustableClock() : undefined;
	const clock = overrides.clock ?? testClock ?? systemClock;
	return {
		config,
		database,
		clock,
		testClock,
		geoip: overrides.geoip ?? openGeoIp(config.geoipDbPath),
		keys: await loadKeyring(database.db, clock)
	};
}

let app: Promise<AppContext> | undefined;

/** The process-wide context: configuration checked, migrations applied, before the first request. */
export function getAppContext(): Promise<AppContext> {
	app ??= createAppContext(parseConfig(process.env));
	return app;
}
