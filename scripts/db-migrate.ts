// `npm run db:migrate`: applies pending migrations to DATABASE_URL (the server also does on
// start-up) and opens the database's key check with the ring, as the server would.
import { openScriptDatabase, runScript, scriptConfig } from './script-context';

await runScript(async () => {
	const { handle, applied } = await openScriptDatabase(scriptConfig());
	await handle.close();
	console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
});
