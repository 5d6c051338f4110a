import { createAppContext } from '../../src/lib/server/app';
import { createDocumentPool } from '../../src/lib/server/appeals/documents/pool';
import { FixedClock } from '../../src/lib/server/core/clock';
import { parseConfig, type Config } from '../../src/lib/server/core/config';
import type { AppContext } from '../../src/lib/server/core/context';
import { testKeyring } from '../../src/lib/server/core/keys';
import { openGeoIp } from '../../src/lib/server/platform/geoip';
import type { TestDatabase } from './databases';

const geoip = openGeoIp();

/**
 * The document threads of this test file, shared by its contexts (each context would otherwise
 * start threads of its own); `closeTestDocumentPool` stops them.
 */
export const testDocumentPool = createDocumentPool();
export const closeTestDocumentPool = () => testDocumentPool.close();

/** A suite's `afterAll` when it stored documents: their threads stop, then its database goes. */
export async function closeTestApp(database: TestDatabase): Promise<void> {
	await closeTestDocumentPool();
	await database.dispose();
}

/** A context built as the app builds its own, over a test database, with a clock that only moves when told. */
export function testAppContext(
	database: TestDatabase,
	options: { env?: Record<string, string>; now?: string } = {}
): AppContext & { clock: FixedClock } {
	const config: Config = parseConfig({ NODE_ENV: 'test', ...options.env });
	const clock = new FixedClock(options.now ?? '2026-11-26T12:00:00Z');
	return {
		...createAppContext(config, {
			database,
			clock,
			geoip,
			keys: testKeyring(),
			workers: testDocumentPool
		}),
		clock
	};
}

/** The app context of the tests: the app's own, with a clock that only moves when told. */
export type TestApp = ReturnType<typeof testAppContext>;

/**
 * A suite's test database and the app over it, for its `beforeAll`; its `afterAll` disposes the
 * database.
 */
export async function openTestApp(
	open: () => Promise<TestDatabase>,
	options: { env?: Record<string, string>; now?: string } = {}
): Promise<{ database: TestDatabase; app: TestApp }> {
	const database = await open();
	return { database, app: testAppContext(database, options) };
}
