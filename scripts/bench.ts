// `npm run bench [-- --duration 10 --connections 32 --skip-build --data DIR --ports 6160-6199
// --pg-accounts 1000000 --pg-database asc_bench --quick --profile]`: the app against a pristine
// SvelteKit app (bench/pristine), side by side in one run on this machine, on 127.0.0.1 only.
// Builds both (the app under the e2e lock), seeds 10,000 and 1,000,000 accounts on SQLite, and
// on PostgreSQL when BENCH_POSTGRES_URL (or TEST_DATABASE_URL) names a server, where it also runs
// the app with REDIS_URL when BENCH_REDIS_URL (or TEST_REDIS_URL) names one. It starts `node build`
// servers itself, loads them with wrk (autocannon when wrk is not installed), reads each server's
// CPU time (/proc/<pid>/stat) around every load, profiles each target's load once more under
// `node --cpu-prof`, prints every row and writes docs/BENCHMARKS.md, keeping the analysis a person
// wrote below its marker. `--quick` (1 s warm-ups, 3 s loads) checks the script and writes its
// document into the data directory, never docs/. `--profile [--load check|noop|page]` instead runs
// that load against a `node --cpu-prof` server and prints the top frames. Every process it starts
// (servers, wrk, seeds, builds) it stops, also on Ctrl-C, SIGTERM or a failure.
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
	existsSync,
	mkdirSync,
	openSync,
	readFileSync,
	readdirSync,
	rmSync,
	writeFileSync
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { newKeyEntry } from '../src/lib/server/core/keys';
import { parseIdentifier } from '../src/lib/server/core/identifiers';
import { summarizeProfile, topFrames, type CpuProfile } from './bench/profile';

function option(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
/** `--quick`: short loads to check the script; its numbers are not for the record. */
const QUICK = process.argv.includes('--quick');
const DURATION = Number(option('duration', QUICK ? '3' : '10'));
const WARMUP = QUICK ? 1 : 3;
/**
 * A warm-up lasts WARMUP s, repeated (at most three times) until it has served this many requests:
 * on a busy machine 3 s may be too few requests for the JIT, and a cold server's CPU per request is
 * several times its warm one.
 */
const WARMUP_REQUESTS = QUICK ? 500 : 2000;
/** Each target's load once more, under `node --cpu-prof`, for its profile line. */
const PROFILE_SECONDS = QUICK ? 2 : 5;
const CONNECTIONS = Number(option('connections', '32'));
/** Accounts seeded on PostgreSQL (its seed is slower than SQLite's; see docs/BENCHMARKS.md). */
const PG_ACCOUNTS = Number(option('pg-accounts', '1000000'));
/** The database the benchmark drops, creates and seeds on the BENCH_POSTGRES_URL server. */
const PG_DATABASE = option('pg-database', 'asc_bench');
/** `--ports 6160-6199`: the servers listen only on free ports of that range (default: any free port). */
const PORTS = /^(\d+)-(\d+)$/.exec(option('ports', ''));
const SIGN_INS = 8;
const SKIP_BUILD = process.argv.includes('--skip-build');
const PROFILE = process.argv.includes('--profile');
/** What `--profile` loads: `check` (the check API), `noop` (hooks only) or `page` (`GET /`). */
const PROFILE_LOAD = option('load', 'check');
const PASSWORD = 'seed-password-1';
const DOC = 'docs/BENCHMARKS.md';
const ANALYSIS_MARK =
	'<!-- Below: the analysis, written by a person from a profile. npm run bench keeps it. -->';
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_DATABASE_URL ?? '';
const REDIS = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? '';
const wrkVersion = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
const WRK = wrkVersion.error === undefined;
const WRK_NAME = /^(wrk \S+)/.exec(wrkVersion.stdout ?? '')?.[1] ?? 'wrk';
/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
const CLK_TCK =
	Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
if (!/^[a-z_][a-z0-9_]*$/.test(PG_DATABASE))
	throw new Error('--pg-database: a lower-case SQL name');
if (!Number.isInteger(PG_ACCOUNTS) || PG_ACCOUNTS < 1000) throw new Error('--pg-accounts: ≥ 1000');

/** Seeded databases are kept here between runs (same seed, same data). */
const work = resolve(option('data', join(tmpdir(), 'asc-bench')));
mkdirSync(work, { recursive: true });

/**
 * Every process the benchmark starts runs in its own process group (`detached`), so a build's or a
 * seed's grandchildren (npx → tsx → node, flock → vite) die with it. All of them are killed when the
 * benchmark ends, however it ends (except by SIGKILL, which no process can catch).
 */
const children = new Set<ChildProcess>();
function start(
	command: string,
	args: string[],
	options: Parameters<typeof spawn>[2]
): ChildProcess {
	const child = spawn(command, args, { ...options, detached: true });
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}
function stopAll(): void {
	for (const child of children) {
		try {
			process.kill(-(child.pid as number), 'SIGKILL');
		} catch {
			// already gone
		}
	}
	children.clear();
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	process.on(signal, () => {
		console.error(`[bench] ${signal}: stopping every process it started`);
		stopAll();
		process.exit(130);
	});
}

const log = (message: string) => console.log(`[bench] ${message}`);

/** A command to its end (signals still reach the benchmark meanwhile); its stdout, or an error. */
async function run(
	command: string,
	args: string[],
	options: { cwd?: string; env?: Record<string, string> } = {}
): Promise<{ ms: number; out: string }> {
	const started = performance.now();
	const child = start(command, args, {
		cwd: options.cwd ?? '.',
		env: { ...process.env, ...options.env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let out = '';
	let err = '';
	child.stdout?.on('data', (chunk) => (out += chunk));
	child.stderr?.on('data', (chunk) => (err += chunk));
	const code = await new Promise<number | null>((resolve, reject) => {
		child.once('error', reject);
		child.once('close', resolve);
	});
	if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}):\n${out}\n${err}`);
	return { ms: performance.now() - started, out };
}

function listen(port: number): Promise<number | null> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(null));
		server.listen(port, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : null));
		});
	});
}

/** Ports handed out in this run: a server may not be listening yet when the next one asks. */
const handedOut = new Set<number>();
async function freePort(): Promise<number> {
	if (!PORTS) return (await listen(0)) ?? Promise.reject(new Error('no free port'));
	for (let port = Number(PORTS[1]); port <= Number(PORTS[2]); port += 1) {
		if (handedOut.has(port) || (await listen(port)) === null) continue;
		handedOut.add(port);
		return port;
	}
	throw new Error(`no free port in ${PORTS[0]}`);
}

interface Server {
	origin: string;
	pid: number;
	stop(): Promise<void>;
}

/** The benchmark's own throw-away key ring, kept with the seeded databases it sealed. */
const keysFile = join(work, 'keys.txt');
if (!existsSync(keysFile)) writeFileSync(keysFile, newKeyEntry(new Date()), { mode: 0o600 });
const benchKeys = readFileSync(keysFile, 'utf8').trim();

interface ServerOptions {
	/** The app's DATABASE_URL; without it, the pristine app. */
	databaseUrl?: string;
	/** The app's REDIS_URL: rate-limit counters in Redis. */
	redisUrl?: string;
	nodeArgs?: string[];
}

/** `node build` of the app (databaseUrl set) or of the pristine fixture, on a free port. */
async function startServer(name: string, options: ServerOptions = {}): Promise<Server> {
	const port = await freePort();
	const origin = `http://127.0.0.1:${port}`;
	const logFile = join(work, `${name}.log`);
	const app = options.databaseUrl !== undefined;
	const child = start(process.execPath, [...(options.nodeArgs ?? []), 'build'], {
		cwd: app ? '.' : 'bench/pristine',
		env: {
			PATH: process.env.PATH ?? '',
			NODE_ENV: 'production',
			HOST: '127.0.0.1',
			PORT: String(port),
			ORIGIN: origin,
			...(app && {
				// A throw-away key ring for the benchmark's own servers.
				APP_SECRET_KEYS: benchKeys,
				DATABASE_URL: options.databaseUrl as string,
				...(options.redisUrl && { REDIS_URL: options.redisUrl }),
				BENCH_ROUTES: '1',
				// The check's own limits would answer 429 within a second of load; they are still
				// counted on every check.
				CHECK_RATE_LIMIT_PER_IP: '1000000000',
				CHECK_RATE_LIMIT_PER_IDENTIFIER: '1000000000'
			})
		},
		stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')]
	});
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const ready = app ? `${origin}/healthz` : `${origin}/`;
	for (let i = 0; ; i += 1) {
		if (child.exitCode !== null || child.signalCode !== null)
			throw new Error(`${name} server exited; see ${logFile}`);
		try {
			if ((await fetch(ready)).ok) break;
		} catch {
			// not listening yet
		}
		if (i > 300) throw new Error(`${name} server did not start within 30 s`);
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		origin,
		pid: child.pid as number,
		async stop() {
			// SIGINT: adapter-node closes the server and the process exits (and writes --cpu-prof).
			child.kill('SIGINT');
			const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await exited;
			clearTimeout(timer);
		}
	};
}

/** Peak resident set size of a process so far (Linux VmHWM), and what it holds now, in bytes. */
function memory(pid: number): { peak: number; anon: number; file: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (field: string) =>
		Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
	return { peak: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** CPU time (user + system) a process has used so far, in µs, from /proc/<pid>/stat. */
function cpuUs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	// After "pid (comm) ": state is field 3, utime field 14, stime field 15.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

interface Measurement {
	rps: number;
	p50: number;
	p99: number;
	requests: number;
	/**
	 * Non-2xx answers (wrk: status ≥ 400) plus socket errors and timeouts; a load that completed no
	 * request at all counts each of its connections.
	 */
	failed: number;
	/** The servers' CPU time (utime + stime) during the load, in µs. */
	cpu: number;
}

interface Load {
	method: 'POST' | 'GET';
	path: string;
	contentType?: string;
	/** Form posts carry their origin, as a browser does (SvelteKit's CSRF check). */
	origin?: boolean;
	/** One request body per line, taken in turn. */
	bodies?: string[];
}

function bodiesFile(bodies: string[]): string {
	const file = join(work, `bodies-${bodies.length}-${Math.random().toString(36).slice(2)}.txt`);
	writeFileSync(file, bodies.join('\n') + '\n');
	return file;
}

async function measureWrk(origin: string, load: Load, seconds: number, connections: number) {
	const bodies = load.bodies ? bodiesFile(load.bodies) : '';
	const args = [
		'-t',
		'2',
		'-c',
		String(connections),
		'-d',
		`${seconds}s`,
		'--timeout',
		'10s',
		'-s',
		'bench/wrk/load.lua',
		`${origin}${load.path}`,
		'--',
		load.method,
		load.contentType ?? '',
		bodies,
		load.origin ? origin : ''
	];
	const out = await new Promise<string>((resolve, reject) => {
		const child = start('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
		let text = '';
		child.stdout?.on('data', (chunk) => (text += chunk));
		child.once('error', reject);
		child.once('close', (code) =>
			code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))
		);
	});
	if (bodies) rmSync(bodies, { force: true });
	const line = /BENCH (\{.*\})/.exec(out)?.[1];
	if (!line) throw new Error(`wrk printed no summary:\n${out}`);
	const r = JSON.parse(line) as Record<string, number>;
	const n = (key: string) => r[key] ?? 0;
	return {
		rps: n('requests') / (n('duration_us') / 1e6),
		p50: n('p50_us') / 1000,
		p99: n('p99_us') / 1000,
		requests: n('requests'),
		failed: n('status') + n('connect') + n('read') + n('write') + n('timeout')
	};
}

async function measureAutocannon(origin: string, load: Load, seconds: number, connections: number) {
	let i = 0;
	const headers: Record<string, string> = { accept: 'text/html,application/json' };
	if (load.contentType) headers['content-type'] = load.contentType;
	if (load.origin) headers.origin = origin;
	const result = await autocannon({
		url: origin,
		connections,
		duration: seconds,
		requests: [
			{
				method: load.method,
				path: load.path,
				headers,
				setupRequest: (request) =>
					load.bodies ? { ...request, body: load.bodies[i++ % load.bodies.length] } : request
			}
		]
	});
	return {
		rps: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		requests: result.requests.total,
		failed: result.non2xx + result.errors + result.timeouts
	};
}

/** Every load of the run, warm-ups and profile loads included: none may fail (docs/BENCHMARKS.md). */
const everyLoad: { label: string; failed: number }[] = [];

async function measure(
	label: string,
	server: Server,
	load: Load,
	options: { seconds?: number; connections?: number; warmUp?: boolean } = {}
): Promise<Measurement> {
	const seconds = options.seconds ?? DURATION;
	const connections = options.connections ?? CONNECTIONS;
	const before = cpuUs(server.pid);
	const m = await (WRK
		? measureWrk(server.origin, load, seconds, connections)
		: measureAutocannon(server.origin, load, seconds, connections));
	const result = {
		...m,
		// No request completed: each connection's request went unanswered for the whole load
		// (wrk counts a timeout only after 10 s), so the load failed. Not for a warm-up, which on a
		// busy machine may end before a cold server's first answers.
		failed: m.requests === 0 && !options.warmUp ? Math.max(m.failed, connections) : m.failed,
		cpu: cpuUs(server.pid) - before
	};
	everyLoad.push({ label, failed: result.failed });
	return result;
}

/** Warm the JIT and caches of these servers (the load split over them): see WARMUP_REQUESTS. */
async function warmUp(label: string, instances: Server[], load: Load): Promise<void> {
	let served = 0;
	for (let round = 1; round <= 3 && served < WARMUP_REQUESTS; round += 1)
		served += (await measureSplit(`${label} (warm-up ${round})`, instances, load, WARMUP, true))
			.requests;
}

/** Warm the JIT and caches first, then measure. */
async function warmAndMeasure(label: string, server: Server, load: Load): Promise<Measurement> {
	await warmUp(label, [server], load);
	return measure(label, server, load);
}

/** One load split over several servers, run together (connections divided between them). */
async function measureSplit(
	label: string,
	instances: Server[],
	load: Load,
	seconds = DURATION,
	warmUp = false
): Promise<Measurement> {
	const connections = CONNECTIONS / instances.length;
	const parts = await Promise.all(
		instances.map((server, i) =>
			measure(instances.length > 1 ? `${label}, #${i + 1}` : label, server, load, {
				connections,
				seconds,
				warmUp
			})
		)
	);
	const sum = (pick: (m: Measurement) => number) => parts.reduce((t, m) => t + pick(m), 0);
	return {
		rps: sum((m) => m.rps),
		p50: Math.max(...parts.map((m) => m.p50)),
		p99: Math.max(...parts.map((m) => m.p99)),
		requests: sum((m) => m.requests),
		failed: sum((m) => m.failed),
		cpu: sum((m) => m.cpu)
	};
}

interface SampledAccount {
	email: string | null;
	phone: string | null;
	status: string;
}

/**
 * Registered identifiers (80 %) and unregistered ones (20 %), each one the check accepts: a refused
 * identifier would answer 400 and count as a failure.
 */
function identifiers(rows: SampledAccount[], n: number, where: string) {
	if (rows.length < n / 2) throw new Error(`${where} holds too few accounts to sample`);
	const check = rows.map((r, i) =>
		i % 5 === 4 ? `nobody.${i}@example.com` : ((r.email ?? r.phone) as string)
	);
	const refused = check.filter((identifier) => !parseIdentifier(identifier).ok);
	if (refused.length > 0)
		throw new Error(`the seed produced identifiers the check refuses: ${refused.slice(0, 5)}`);
	const signIn = rows
		.filter((r) => r.status !== 'disabled')
		.map((r) => (r.email ?? r.phone) as string);
	return { check, signIn };
}

function sqliteIdentifiers(databasePath: string, n: number) {
	const db = new BetterSqlite3(databasePath, { readonly: true });
	const rows = db
		.prepare(
			'select email, phone, status from accounts where rowid in (select rowid from accounts order by random() limit ?)'
		)
		.all(n) as SampledAccount[];
	db.close();
	return identifiers(rows, n, databasePath);
}

async function postgresIdentifiers(url: string, n: number) {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const { rows } = await client.query<SampledAccount>(
			'select email, phone, status from accounts order by random() limit $1',
			[n]
		);
		return identifiers(rows, n, PG_DATABASE);
	} finally {
		await client.end();
	}
}

/** Spreads the list so consecutive requests are far apart in it. */
function shuffled<T>(items: T[]): T[] {
	return items.map((_, i) => items[(i * 7919) % items.length] as T);
}

/** A JSON POST with one body per line of `bodies`, taken in turn. */
const jsonPost = (path: string, bodies: string[]): Load => ({
	method: 'POST',
	path,
	contentType: 'application/json',
	bodies
});
/** A form post as a browser without JavaScript sends it (with its origin, for SvelteKit's CSRF check). */
const formPost = (path: string, fields: Record<string, string>[]): Load => ({
	method: 'POST',
	path,
	contentType: 'application/x-www-form-urlencoded',
	origin: true,
	bodies: fields.map((f) => new URLSearchParams(f).toString())
});
const identifierBodies = (ids: string[], extra: Record<string, string> = {}) =>
	shuffled(ids).map((identifier) => JSON.stringify({ identifier, ...extra }));

const loads = {
	pristineJson: (ids: string[]) => jsonPost('/api/echo', identifierBodies(ids)),
	pristinePage: (): Load => ({ method: 'GET', path: '/' }),
	pristineForm: (ids: string[]) =>
		formPost(
			'/',
			shuffled(ids).map((text) => ({ text }))
		),
	noop: () => jsonPost('/api/bench/noop', ['{}']),
	check: (ids: string[]) => jsonPost('/api/v1/check', identifierBodies(ids)),
	page: (): Load => ({ method: 'GET', path: '/' }),
	// JavaScript off: a plain form post, answered with the whole page (R14).
	checkForm: (ids: string[]) =>
		formPost(
			'/?/check',
			shuffled(ids).map((identifier) => ({ identifier, country: 'CN' }))
		),
	signIn: (ids: string[]) =>
		jsonPost('/api/v1/sessions', identifierBodies(ids, { password: PASSWORD }))
};

/**
 * The JS a first visit to `/` downloads: every script and modulepreload of the page, gzipped. With
 * a CSP, SvelteKit announces the modulepreloads in the `link` header instead of the HTML.
 */
async function initialJs(
	origin: string
): Promise<{ gzipBytes: number; files: { url: string; gzipBytes: number }[] }> {
	const response = await fetch(`${origin}/`);
	const html = await response.text();
	const urls = new Set<string>();
	for (const match of html.matchAll(/(?:href|src)="([^"]+\.js)"|import\("([^"]+\.js)"\)/g))
		urls.add((match[1] ?? match[2]) as string);
	for (const match of (response.headers.get('link') ?? '').matchAll(
		/<([^>]+\.js)>;\s*rel="modulepreload"/g
	))
		urls.add(match[1] as string);
	const files = [];
	for (const url of urls) {
		const body = Buffer.from(await (await fetch(new URL(url, `${origin}/`))).arrayBuffer());
		files.push({ url, gzipBytes: gzipSync(body, { level: 9 }).length });
	}
	files.sort((a, b) => b.gzipBytes - a.gzipBytes);
	return { gzipBytes: files.reduce((t, f) => t + f.gzipBytes, 0), files };
}

/** A seeded SQLite file, reused when an earlier run finished seeding it (its `.done` marker). */
async function seedSqlite(accounts: number): Promise<{ path: string; seconds: number | null }> {
	const path = join(work, `accounts-${accounts}.db`);
	if (existsSync(`${path}.done`)) return { path, seconds: null };
	for (const leftover of [path, `${path}-wal`, `${path}-shm`]) rmSync(leftover, { force: true });
	log(`seeding ${accounts.toLocaleString('en-US')} accounts (SQLite)…`);
	const { out } = await run(
		'npx',
		['tsx', 'scripts/seed.ts', '--accounts', String(accounts), '--database-url', `file:${path}`],
		{ env: { APP_SECRET_KEYS: benchKeys } }
	);
	writeFileSync(`${path}.done`, out);
	return { path, seconds: Number(/in ([\d.]+) s/.exec(out)?.[1] ?? NaN) };
}

async function accountsIn(url: string): Promise<number | null> {
	const client = new pg.Client({ connectionString: url });
	try {
		await client.connect();
		const { rows } = await client.query<{ n: string }>('select count(*) as n from accounts');
		return Number(rows[0]?.n);
	} catch {
		return null;
	} finally {
		await client.end().catch(() => {});
	}
}

/**
 * PG_DATABASE on the server POSTGRES names, seeded like the SQLite one with PG_ACCOUNTS accounts:
 * reused when an earlier run with this data directory (so these keys) finished seeding it.
 */
async function seedPostgres(): Promise<{ url: string; seconds: number | null }> {
	const url = new URL(POSTGRES);
	url.pathname = `/${PG_DATABASE}`;
	const marker = join(work, `postgres-${PG_DATABASE}-${PG_ACCOUNTS}.done`);
	if (
		existsSync(marker) &&
		readFileSync(marker, 'utf8').split('\n')[0] === url.toString() &&
		(await accountsIn(url.toString())) === PG_ACCOUNTS
	)
		return { url: url.toString(), seconds: null };
	rmSync(marker, { force: true });
	const client = new pg.Client({ connectionString: POSTGRES });
	await client.connect();
	await client.query(`drop database if exists ${PG_DATABASE} with (force)`);
	await client.query(`create database ${PG_DATABASE}`);
	await client.end();
	log(`seeding ${PG_ACCOUNTS.toLocaleString('en-US')} accounts (PostgreSQL, ${PG_DATABASE})…`);
	const { out } = await run(
		'npx',
		['tsx', 'scripts/seed.ts', '--accounts', String(PG_ACCOUNTS), '--database-url', url.toString()],
		{ env: { APP_SECRET_KEYS: benchKeys } }
	);
	writeFileSync(marker, `${url.toString()}\n${out}`);
	return { url: url.toString(), seconds: Number(/in ([\d.]+) s/.exec(out)?.[1] ?? NaN) };
}

async function build(): Promise<void> {
	if (SKIP_BUILD) return;
	log('building the app (under /tmp/asc-e2e.lock) and the pristine app…');
	await run('flock', ['/tmp/asc-e2e.lock', 'npx', 'vite', 'build']);
	await run('npx', ['vite', 'build'], { cwd: 'bench/pristine' });
}

/** The `.cpuprofile` a `node --cpu-prof` server wrote into `dir` when it exited. */
function readProfile(dir: string): CpuProfile {
	const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
	if (!file) throw new Error(`no profile in ${dir}`);
	return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
}

const runId = new Date().toISOString().replace(/[:.]/g, '-');

/**
 * A target's profile line: its load once more, on fresh servers of which the first runs under
 * `node --cpu-prof`, the load split over all of them. Only the samples of the load (and the stop)
 * count, not the server's start-up and warm-up.
 */
async function profileLine(name: string, instances: ServerOptions[], load: Load): Promise<string> {
	const dir = join(work, 'profiles', runId, name);
	const servers: Server[] = [];
	try {
		for (const [i, options] of instances.entries())
			servers.push(
				await startServer(`${name}-profile-${i + 1}`, {
					...options,
					...(i === 0 && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] })
				})
			);
		await warmUp(`${name} under --cpu-prof`, servers, load);
		const started = performance.now();
		await measureSplit(`${name} under --cpu-prof`, servers, load, PROFILE_SECONDS);
		await Promise.all(servers.map((server) => server.stop()));
		return topFrames(readProfile(dir), 3, (performance.now() - started) * 1000);
	} finally {
		await Promise.all(servers.map((server) => server.stop()));
	}
}

async function profile(): Promise<void> {
	await build();
	const large = await seedSqlite(1_000_000);
	const ids = sqliteIdentifiers(large.path, 20_000);
	const dir = join(work, `profile-${Date.now()}`);
	const server = await startServer('profile', {
		databaseUrl: `file:${large.path}`,
		nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`]
	});
	const load =
		PROFILE_LOAD === 'noop'
			? loads.noop()
			: PROFILE_LOAD === 'page'
				? loads.page()
				: loads.check(ids.check);
	const m = await warmAndMeasure(PROFILE_LOAD, server, load);
	await server.stop();
	log(`${PROFILE_LOAD} load under --cpu-prof: ${Math.round(m.rps)} req/s; profile in ${dir}`);
	console.log(summarizeProfile(readProfile(dir), 30));
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const count = (v: number) => Math.round(v).toLocaleString('en-US');
const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
const mib = (v: number) => `${(v / 1048576).toFixed(0)} MiB`;
const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;
const perRequest = (m: Measurement) => (m.requests > 0 ? m.cpu / m.requests : NaN);
const us = (v: number) => (Number.isFinite(v) ? `${count(v)} µs` : '–');
/** A req/s ratio, with the servers' CPU per request in the same ratio (which noise moves less). */
const versus = (m: Measurement, base: Measurement) =>
	`${ratio(m.rps / base.rps)} (CPU per request ${ratio(perRequest(m) / perRequest(base))})`;

interface PostgresRows {
	accounts: number;
	seeded: number | null;
	one: Measurement;
	two: Measurement;
	redis: Measurement | null;
	profiles: { one: string; two: string; redis: string | null };
}

async function postgresRows(): Promise<PostgresRows> {
	const { url, seconds } = await seedPostgres();
	const ids = await postgresIdentifiers(url, Math.min(20_000, PG_ACCOUNTS));
	const check = loads.check(ids.check);
	const n = PG_ACCOUNTS.toLocaleString('en-US');
	log(`app, ${n} accounts on PostgreSQL: one instance, then two…`);
	// Both instances start and warm up first, so neither side of the comparison runs colder.
	const instances = [
		await startServer('pg-1', { databaseUrl: url }),
		await startServer('pg-2', { databaseUrl: url })
	];
	const [first] = instances as [Server, Server];
	await warmUp('check API on PostgreSQL, two instances', instances, check);
	const one = await warmAndMeasure('check API on PostgreSQL, one instance', first, check);
	await warmUp('check API on PostgreSQL, two instances', instances, check);
	const two = await measureSplit('check API on PostgreSQL, two instances', instances, check);
	await Promise.all(instances.map((server) => server.stop()));

	let redis: Measurement | null = null;
	if (REDIS) {
		log(`app, ${n} accounts on PostgreSQL with REDIS_URL, one instance…`);
		const server = await startServer('pg-redis', { databaseUrl: url, redisUrl: REDIS });
		redis = await warmAndMeasure('check API on PostgreSQL with REDIS_URL', server, check);
		await server.stop();
	}

	log('profiles of the PostgreSQL loads…');
	const app = { databaseUrl: url };
	return {
		accounts: PG_ACCOUNTS,
		seeded: seconds,
		one,
		two,
		redis,
		profiles: {
			one: await profileLine('check-pg', [app], check),
			two: await profileLine('check-pg-two', [app, app], check),
			redis: REDIS
				? await profileLine('check-pg-redis', [{ ...app, redisUrl: REDIS }], check)
				: null
		}
	};
}

async function main(): Promise<void> {
	const began = performance.now();
	const machine = {
		cpus: availableParallelism(),
		model: cpus()[0]?.model ?? 'unknown',
		memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
		node: process.version,
		date: new Date().toISOString(),
		loadBefore: loadavg().map((v) => v.toFixed(2))
	};
	const generator = WRK ? `${WRK_NAME} (2 threads)` : 'autocannon (in the bench process)';
	log(`machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memory}, Node ${machine.node}`);
	log(`load generator: ${generator}; ${QUICK ? 'QUICK: ' : ''}${DURATION} s loads`);
	log(
		`PostgreSQL: ${POSTGRES ? `${PG_DATABASE}, ${PG_ACCOUNTS} accounts` : 'not set'}; Redis: ${REDIS ? 'set' : 'not set'}`
	);
	await build();
	const small = await seedSqlite(10_000);
	const large = await seedSqlite(1_000_000);
	const smallIds = sqliteIdentifiers(small.path, 5_000);
	const largeIds = sqliteIdentifiers(large.path, 20_000);

	log('pristine SvelteKit: JSON POST, SSR page, form post…');
	const pristine = await startServer('pristine');
	const pristineJson = await warmAndMeasure(
		'pristine JSON POST',
		pristine,
		loads.pristineJson(largeIds.check)
	);
	const pristineMemory = memory(pristine.pid);
	const pristinePage = await warmAndMeasure('pristine SSR page', pristine, loads.pristinePage());
	const pristineForm = await warmAndMeasure(
		'pristine form post',
		pristine,
		loads.pristineForm(largeIds.check)
	);
	const pristineJs = await initialJs(pristine.origin);
	await pristine.stop();

	// A fresh process, so its peak RSS is the check load's (the pristine one's is its JSON load's).
	log('app, 1,000,000 accounts on SQLite: check API, no-op route, SSR page, form post, sign-ins…');
	let app = await startServer('app-1m', { databaseUrl: `file:${large.path}` });
	const check1m = await warmAndMeasure('check API, 1 M', app, loads.check(largeIds.check));
	const appMemory = memory(app.pid);
	const noop = await warmAndMeasure('no-op route', app, loads.noop());
	const page = await warmAndMeasure('GET /', app, loads.page());
	const checkForm = await warmAndMeasure('check form post', app, loads.checkForm(largeIds.check));
	const signInLoad = loads.signIn(largeIds.signIn);
	await measure('sign-ins (warm-up)', app, signInLoad, {
		seconds: WARMUP,
		connections: SIGN_INS,
		warmUp: true
	});
	const [checkUnderSignIn, signIns] = await Promise.all([
		measure('check API during sign-ins', app, loads.check(largeIds.check)),
		measure('sign-ins', app, signInLoad, { connections: SIGN_INS })
	]);
	// One process served both loads together: its CPU time is theirs together.
	const both = { ...checkUnderSignIn, requests: checkUnderSignIn.requests + signIns.requests };
	const js = await initialJs(app.origin);
	await app.stop();

	log('app, 10,000 accounts on SQLite: check API…');
	app = await startServer('app-10k', { databaseUrl: `file:${small.path}` });
	const check10k = await warmAndMeasure('check API, 10 k', app, loads.check(smallIds.check));
	await app.stop();

	log('profiles of the SQLite loads…');
	const sqliteApp = [{ databaseUrl: `file:${large.path}` }];
	const profiles = {
		check: await profileLine('check-sqlite', sqliteApp, loads.check(largeIds.check)),
		noop: await profileLine('noop', sqliteApp, loads.noop()),
		page: await profileLine('page', sqliteApp, loads.page())
	};

	const postgres = POSTGRES ? await postgresRows() : null;
	const pgN = postgres
		? postgres.accounts >= 1e6
			? `${postgres.accounts / 1e6} M`
			: `${postgres.accounts / 1e3} k`
		: '';

	const rows: [string, Measurement, Measurement | null, string?][] = [
		['pristine SvelteKit JSON POST', pristineJson, pristineJson],
		['our no-op route (all hooks, nothing else)', noop, pristineJson],
		['`POST /api/v1/check` on SQLite, 1 M accounts', check1m, pristineJson],
		['`POST /api/v1/check` on SQLite, 10 k accounts', check10k, pristineJson],
		['pristine SvelteKit SSR page', pristinePage, pristinePage],
		['`GET /` (check page SSR)', page, pristinePage],
		['pristine SvelteKit form post', pristineForm, pristinePage],
		['check form post (JS off), 1 M', checkForm, pristinePage],
		[
			`check API during ${SIGN_INS} parallel sign-ins, 1 M`,
			checkUnderSignIn,
			null,
			us(perRequest(both)) + ' (both loads)'
		],
		[
			`sign-ins (argon2id), ${SIGN_INS} connections`,
			signIns,
			null,
			us(perRequest(both)) + ' (both loads)'
		],
		...(postgres
			? ([
					[`check API on PostgreSQL, ${pgN}, one instance`, postgres.one, check1m],
					[`check API on PostgreSQL, ${pgN}, two instances (CPU: both)`, postgres.two, check1m],
					...(postgres.redis
						? [
								[
									`check API on PostgreSQL with REDIS_URL, ${pgN}, one instance`,
									postgres.redis,
									check1m
								]
							]
						: [])
				] as [string, Measurement, Measurement][])
			: [])
	];
	const measurements = [
		'| load | req/s | p50 | p99 | requests | failed | server CPU per request | ratio |',
		'| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
		...rows.map(
			([name, m, base, cpu]) =>
				`| ${name} | ${count(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${count(m.requests)} | ${m.failed} | ${cpu ?? us(perRequest(m))} | ${base ? `${ratio(m.rps / base.rps)}${base === m ? '' : base === check1m ? ' of SQLite' : ''}` : '–'} |`
		),
		`| peak RSS under load | pristine ${mib(pristineMemory.peak)} | app ${mib(appMemory.peak)} | | | | | ${ratio(appMemory.peak / pristineMemory.peak)} |`
	];

	const failedLoads = everyLoad.filter((l) => l.failed > 0);
	const failed = failedLoads.reduce((sum, l) => sum + l.failed, 0);
	const notMeasured = (variable: string) => [`not measured: ${variable} not set`, null] as const;
	/** [target, wanted, measured, met (null: not measured), profile line] */
	const targets: [string, string, string, boolean | null, string][] = [
		[
			'check API on SQLite (1 M) vs the pristine JSON POST',
			'≥ 0.6×',
			versus(check1m, pristineJson),
			check1m.rps >= 0.6 * pristineJson.rps,
			`check on SQLite: ${profiles.check}`
		],
		[
			'check API p99 vs the pristine JSON POST p99',
			'≤ 2×',
			`${ms(check1m.p99)} / ${ms(pristineJson.p99)} = ${ratio(check1m.p99 / pristineJson.p99)}`,
			check1m.p99 <= 2 * pristineJson.p99,
			`the check's profile above; p50 ${ms(check1m.p50)} (pristine ${ms(pristineJson.p50)}), CPU per check ${us(perRequest(check1m))} (pristine per POST ${us(perRequest(pristineJson))})`
		],
		[
			'check API on PostgreSQL, one instance, vs the SQLite check',
			'≥ 0.6×',
			...(postgres
				? ([versus(postgres.one, check1m), postgres.one.rps >= 0.6 * check1m.rps] as const)
				: notMeasured('BENCH_POSTGRES_URL')),
			postgres ? `check on PostgreSQL: ${postgres.profiles.one}` : '–'
		],
		[
			'check API on PostgreSQL with REDIS_URL, one instance, vs the SQLite check',
			'≥ 0.7×',
			...(postgres?.redis
				? ([versus(postgres.redis, check1m), postgres.redis.rps >= 0.7 * check1m.rps] as const)
				: notMeasured(postgres ? 'BENCH_REDIS_URL' : 'BENCH_POSTGRES_URL')),
			postgres?.profiles.redis ? `check on PostgreSQL + Redis: ${postgres.profiles.redis}` : '–'
		],
		[
			'two PostgreSQL instances: server CPU per check vs one instance',
			'≤ 1.15×',
			...(postgres
				? ([
						`${us(perRequest(postgres.two))} / ${us(perRequest(postgres.one))} = ${ratio(perRequest(postgres.two) / perRequest(postgres.one))}`,
						perRequest(postgres.two) <= 1.15 * perRequest(postgres.one)
					] as const)
				: notMeasured('BENCH_POSTGRES_URL')),
			postgres ? `instance 1 of 2: ${postgres.profiles.two}` : '–'
		],
		[
			'`GET /` vs the pristine SSR page',
			'≥ 0.6×',
			versus(page, pristinePage),
			page.rps >= 0.6 * pristinePage.rps,
			`\`GET /\`: ${profiles.page}`
		],
		[
			'no-op route (hooks only) vs the pristine JSON POST',
			'≥ 0.85×',
			versus(noop, pristineJson),
			noop.rps >= 0.85 * pristineJson.rps,
			`no-op route: ${profiles.noop}`
		],
		[
			'peak RSS, check load vs the pristine app under its JSON load',
			'≤ 1.25×',
			`${mib(appMemory.peak)} / ${mib(pristineMemory.peak)} = ${ratio(appMemory.peak / pristineMemory.peak)}`,
			appMemory.peak <= 1.25 * pristineMemory.peak,
			`resident after the load: app ${mib(appMemory.anon)} anonymous (heap, native) + ${mib(appMemory.file)} file-backed; pristine ${mib(pristineMemory.anon)} + ${mib(pristineMemory.file)}`
		],
		[
			'initial JS for `/` (gzip)',
			'≤ 40 KB',
			`${kb(js.gzipBytes)} in ${js.files.length} files (pristine: ${kb(pristineJs.gzipBytes)} in ${pristineJs.files.length})`,
			js.gzipBytes <= 40 * 1024,
			`largest: ${js.files
				.slice(0, 3)
				.map((f) => `\`${f.url.replace(/^.*\//, '')}\` ${kb(f.gzipBytes)}`)
				.join(', ')}`
		],
		[
			'failed requests (non-2xx, socket errors, timeouts, no answer), every load',
			'0',
			String(failed),
			failed === 0,
			failedLoads.length === 0
				? `none in ${everyLoad.length} loads (warm-ups and profile loads included)`
				: failedLoads.map((l) => `${l.label}: ${l.failed}`).join('; ')
		]
	];
	const verdicts = [
		'| target | wanted | measured | |',
		'| --- | --- | --- | --- |',
		...targets.map(
			([name, wanted, got, pass]) =>
				`| ${name} | ${wanted} | ${got} | ${pass === null ? 'not measured' : pass ? 'met' : '**missed**'} |`
		)
	];
	const profileTable = [
		'| target | top 3 functions by self time in its load; garbage collector; by place |',
		'| --- | --- |',
		...targets.map(([name, , , , line]) => `| ${name} | ${line.replaceAll('\n', ' ')} |`)
	];
	console.log(['', ...measurements, '', ...verdicts, '', ...profileTable, ''].join('\n'));

	const out = QUICK ? join(work, 'BENCHMARKS.quick.md') : DOC;
	const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
	const analysis = previous.includes(ANALYSIS_MARK)
		? previous.slice(previous.indexOf(ANALYSIS_MARK) + ANALYSIS_MARK.length).trim()
		: '## Where the time goes\n\n(Not written yet: run `npm run bench -- --profile` and write it.)';
	const seeded = (s: number | null) => (s === null ? 'reused from an earlier run' : `${s} s`);
	const minutes = ((performance.now() - began) / 60_000).toFixed(1);
	const doc = `# Benchmarks

Produced by \`npm run bench\` (scripts/bench.ts) in one run: the app and a pristine SvelteKit app
(\`bench/pristine\`, the framework's defaults, built from the same \`node_modules\`) measured side by
side, minutes apart, on the same machine. Every ratio compares two rows of this one run.
${QUICK ? '\n**A `--quick` run (short loads), to check the script: not a measurement.**\n' : ''}
## Machine

- ${machine.cpus} CPUs (${machine.model}), ${machine.memory} RAM, Node ${machine.node}, ${machine.date}; the run took ${minutes} min
- load generator: ${generator}, on the same machine as the servers; 127.0.0.1 only
- load average (1, 5, 15 min) before the run: ${machine.loadBefore.join(', ')}; after: ${loadavg()
		.map((v) => v.toFixed(2))
		.join(', ')} (anything else running skews every req/s; CPU per request much less)

## Method

- \`node build\` (adapter-node, NODE_ENV=production), the app on SQLite seeded by \`npm run seed\`
  with 10,000 and 1,000,000 accounts (seeding 1 M: ${seeded(large.seconds)})${postgres ? `,\n  and on PostgreSQL with ${postgres.accounts.toLocaleString('en-US')} (\`--pg-accounts\`; seeding: ${seeded(postgres.seeded)})` : ''}.
- ${CONNECTIONS} connections, ${DURATION} s per measurement after a warm-up of ${WARMUP} s (repeated, at most
  three times, until it has served ${WARMUP_REQUESTS.toLocaleString('en-US')} requests).
- The pristine app: \`POST /api/echo\` parses the JSON body and answers; \`/\` is a page with a
  one-field form action. Our no-op route is \`POST /api/bench/noop\` (\`BENCH_ROUTES=1\`): every hook
  of every request, then \`{ok:true}\`.
- The check API and the form post vary the identifier on every request (80 % registered, 20 % not;
  each one a number or address the check accepts); the rate limits are raised so none is refused,
  and every check still counts toward both limits and writes its \`check_events\` row (R15).
- Server CPU per request: the server processes' utime + stime (\`/proc/<pid>/stat\`) over the
  measured load, divided by its requests. Other work on the machine moves it far less than it
  moves req/s, so it is what compares one PostgreSQL instance with two on ${machine.cpus} cores, and the
  targets given in req/s also show it (the app's CPU per request over the baseline's).
- Peak RSS is each server's VmHWM: the pristine app's after its JSON load, the app's after its check
  load (a fresh process for each).
- PostgreSQL: two \`node build\` instances on the same database, both started and warmed up first;
  the load on the first alone; then on both, the connections split between them (one load
  generator per instance, run together), req/s summed, CPU time of both over the requests of both;
  then one instance with \`REDIS_URL\` (rate-limit counters in Redis)${REDIS ? '' : ' when BENCH_REDIS_URL is set'}.
  The PostgreSQL rows sample their identifiers from the PostgreSQL database.
- Initial JS is every script and modulepreload of \`/\`, gzipped at level 9.
- Profiles: each target's load once more for ${PROFILE_SECONDS} s (after a warm-up) on a fresh server under \`node --cpu-prof\`; only the load's samples count, idle time excluded. V8 samples
  the thread's time, not the CPU's: on a busy machine a system call's wait for a core (\`writev\`,
  \`writeString\`) shows up as its self time.

## Measurements

${measurements.join('\n')}

## Targets

${verdicts.join('\n')}

## Profile per target

${profileTable.join('\n')}

${ANALYSIS_MARK}

${analysis}
`;
	writeFileSync(out, doc);
	log(`wrote ${out} (the run took ${minutes} min)`);
}

try {
	await (PROFILE ? profile() : main());
} catch (error) {
	console.error(error);
	console.error(`[bench] server logs and databases are in ${work}`);
	process.exitCode = 1;
} finally {
	stopAll();
}
