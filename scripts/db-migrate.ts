// `npm run db:migrate`: applies pending migrations to DATABASE_URL (the server also does on start-up).
import { parseConfig } from '../src/lib/server/core/config';
import { openDatabase } from '../src/lib/server/db/database';
import { migrateToLatest } from '../src/lib/server/db/migrate';
import { keyringForConfig } from '../src/lib/server/core/keys';

const config = parseConfig(process.env);
const handle = openDatabase(config.database);
try {
	const result = await migrateToLatest(handle, { keys: keyringForConfig(config, console.warn) });
	const applied = result.results?.map((r) => r.migrationName) ?? [];
	console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
} finally {
	await handle.close();
}
