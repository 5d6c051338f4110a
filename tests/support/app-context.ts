import { FixedClock } from '../../src/lib/server/core/clock';
import { parseConfig, type Config } from '../../src/lib/server/core/config';
import type { AppContext } from '../../src/lib/server/core/context';
import { openGeoIp } from '../../src/lib/server/platform/geoip';
import { testKeyring } from '../../src/lib/server/core/keys';
import type { TestDatabase } from './databases';

const geoip = openGeoIp();

/** An AppContext over a test database with a clock that only moves when told. */
export function testAppContext(
	database: TestDatabase,
	options: { env?: Record<string, string>; now?: string } = {}
): AppContext & { clock: FixedClock } {
	const config: Config = parseConfig({ NODE_ENV: 'test', ...options.env });
	return {
		config,
		database,
		clock: new FixedClock(options.now ?? '2026-11-26T12:00:00Z'),
		testClock: undefined,
		geoip,
		keys: testKeyring()
	};
}
