// What the command-line scripts (agent, seed, db:migrate, keys:rotate) open, by the dev server's
// rules, and how they fail: one line on stderr, never a stack trace.
import { openAppContext, prepareDatabase } from '../src/lib/server/app';
import { parseConfig, type Config } from '../src/lib/server/core/config';
import type { AppContext } from '../src/lib/server/core/context';
import { keyringForConfig, type Keyring } from '../src/lib/server/core/keys';
import { openDatabase, type DatabaseHandle } from '../src/lib/server/db/database';

/**
 * The server's variables, read as `npm run dev` reads them: an unset or empty NODE_ENV means
 * development, as `vite dev` makes it, so a script run after `npm run dev` finds the same database
 * (`./data/app.db`) and the same local key ring (`./data/secret-keys`). With NODE_ENV=production
 * the production rules apply (APP_SECRET_KEYS required), as under `npm start`.
 */
export function scriptConfig(env: NodeJS.ProcessEnv = process.env): Config {
	return parseConfig({ ...env, NODE_ENV: env.NODE_ENV || 'development' });
}

/** The ring of `config`; a development ring made on the way is said on stderr. */
function scriptKeyring(config: Config): Keyring {
	return keyringForConfig(config, (message) => console.warn(message));
}

/** The application's context, opened as the server opens it (migrations, key check). */
export function openScriptContext(config: Config): Promise<AppContext> {
	return openAppContext(config, { keys: scriptKeyring(config) });
}

/** Only the database of `config`, migrated (`applied`: the migrations run now) and key-checked. */
export async function openScriptDatabase(
	config: Config
): Promise<{ handle: DatabaseHandle; applied: string[] }> {
	const keys = scriptKeyring(config);
	const handle = openDatabase(config.database);
	try {
		return { handle, applied: await prepareDatabase(config, handle, keys) };
	} catch (error) {
		await handle.close();
		throw error;
	}
}

/**
 * The value of `step`; when it fails, one line on stderr (`error: …`, what the operator must fix:
 * APP_SECRET_KEYS, DATABASE_URL, an argument) and exit code 1.
 */
export async function orExit<T>(step: () => T | Promise<T>): Promise<T> {
	try {
		return await step();
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		console.error(`error: ${message.replaceAll(/\s*\n\s*/g, ' ')}`);
		process.exit(1);
	}
}

/** Runs a script's body to its exit code (0 when it returns none); a failure as in `orExit`. */
export async function runScript(main: () => Promise<number | void>): Promise<never> {
	process.exit((await orExit(main)) ?? 0);
}
