// `npm run bench [-- --duration 10 --connections 32 --skip-build --data DIR --profile]`: the app
// against a pristine SvelteKit app (bench/pristine), side by side in one run on this machine, on
// 127.0.0.1 only. Builds both (the app under the e2e lock), seeds 10,000 and 1,000,000 accounts
// (SQLite, and PostgreSQL when BENCH_POSTGRES_URL or TEST_DATABASE_URL names a server), starts
// `node build` servers itself, loads them with wrk (autocannon when wrk is not installed), prints
// every row and writes docs/BENCHMARKS.md, keeping the analysis a person wrote below its marker.
// `--profile [--load check|noop|page]` instead runs that load against a `node --cpu-prof` server and prints the top
// frames. Every server it starts, it stops.
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
import { summarizeProfile } from './bench/profile';

function option(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const DURATION = Number(option('duration', '10'));
const WARMUP = 3;
const CONNECTIONS = Number(option('connections', '32'));
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
const WRK = spawnSync('wrk', ['--version']).error === undefined;

/** Seeded databases are kept here between runs (same seed, same data). */
const work = resolve(option('data', join(tmpdir(), 'asc-bench')));
mkdirSync(work, { recursive: true });
const servers = new Set<ChildProcess>();

function stopAll(): void {
	for (const child of servers) child.kill('SIGKILL');
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		stopAll();
		process.exit(130);
	});
}

const log = (message: string) => console.log(`[bench] ${message}`);

function run(
	command: string,
	args: string[],
	options: { cwd?: string; env?: Record<string, string> } = {}
): { ms: number; out: string } {
	const started = performance.now();
	const result = spawnSync(command, args, {
		cwd: options.cwd ?? '.',
		env: { ...process.env, ...options.env },
		encoding: 'utf8',
		maxBuffer: 64 * 1024 * 1024
	});
	if (result.status !== 0)
		throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
	return { ms: performance.now() - started, out: result.stdout };
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
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

/** `node build` of the app (databaseUrl set) or of the pristine fixture, on a free port. */
async function startServer(
	name: string,
	options: { databaseUrl?: string; nodeArgs?: string[] } = {}
): Promise<Server> {
	const port = await freePort();
	const origin = `http://127.0.0.1:${port}`;
	const logFile = join(work, `${name}.log`);
	const app = options.databaseUrl !== undefined;
	const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'build'], {
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
				BENCH_ROUTES: '1',
				// The check's own limits would answer 429 within a second of load; they are still
				// counted on every check.
				CHECK_RATE_LIMIT_PER_IP: '1000000000',
				CHECK_RATE_LIMIT_PER_IDENTIFIER: '1000000000'
			})
		},
		stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')]
	});
	servers.add(child);
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const ready = app ? `${origin}/healthz` : `${origin}/`;
	for (let i = 0; ; i += 1) {
		if (child.exitCode !== null) throw new Error(`${name} server exited; see ${logFile}`);
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
			servers.delete(child);
		}
	};
}

/** Peak resident set size of a process so far (Linux VmHWM), in bytes. */
function peakRss(pid: number): number {
	const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return match ? Number(match[1]) * 1024 : NaN;
}

interface Measurement {
	rps: number;
	p50: number;
	p99: number;
	requests: number;
	/** Non-2xx answers (wrk: status ≥ 400) plus socket errors and timeouts. */
	failed: number;
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
		load.bodies ? bodiesFile(load.bodies) : '',
		load.origin ? origin : ''
	];
	const out = await new Promise<string>((resolve, reject) => {
		const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
		let text = '';
		child.stdout.on('data', (chunk) => (text += chunk));
		child.once('error', reject);
		child.once('exit', (code) =>
			code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))
		);
	});
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

function measure(
	origin: string,
	load: Load,
	options: { seconds?: number; connections?: number } = {}
): Promise<Measurement> {
	const seconds = options.seconds ?? DURATION;
	const connections = options.connections ?? CONNECTIONS;
	return WRK
		? measureWrk(origin, load, seconds, connections)
		: measureAutocannon(origin, load, seconds, connections);
}

/** Warm the JIT and caches first, then measure. */
async function warmAndMeasure(
	origin: string,
	load: Load,
	options: { connections?: number } = {}
): Promise<Measurement> {
	await measure(origin, load, { seconds: WARMUP, ...options });
	return measure(origin, load, options);
}

/**
 * Registered identifiers from a seeded database (80 %) and unregistered ones (20 %), each one the
 * check accepts: a refused identifier would answer 400 and count as a failure.
 */
function identifiers(databasePath: string, n: number): { check: string[]; signIn: string[] } {
	const db = new BetterSqlite3(databasePath, { readonly: true });
	const rows = db
		.prepare(
			'select email, phone, status from accounts where rowid in (select rowid from accounts order by random() limit ?)'
		)
		.all(n) as { email: string | null; phone: string | null; status: string }[];
	db.close();
	if (rows.length < n / 2) throw new Error(`${databasePath} holds too few accounts to sample`);
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
async function initialJs(origin: string): Promise<{ files: number; gzipBytes: number }> {
	const response = await fetch(`${origin}/`);
	const html = await response.text();
	const urls = new Set<string>();
	for (const match of html.matchAll(/(?:href|src)="([^"]+\.js)"|import\("([^"]+\.js)"\)/g))
		urls.add((match[1] ?? match[2]) as string);
	for (const match of (response.headers.get('link') ?? '').matchAll(
		/<([^>]+\.js)>;\s*rel="modulepreload"/g
	))
		urls.add(match[1] as string);
	let gzipBytes = 0;
	for (const url of urls) {
		const body = Buffer.from(await (await fetch(new URL(url, `${origin}/`))).arrayBuffer());
		gzipBytes += gzipSync(body, { level: 9 }).length;
	}
	return { files: urls.size, gzipBytes };
}

/** A seeded SQLite file, reused when an earlier run finished seeding it (its `.done` marker). */
function seedSqlite(accounts: number): { path: string; seconds: number | null } {
	const path = join(work, `accounts-${accounts}.db`);
	if (existsSync(`${path}.done`)) return { path, seconds: null };
	for (const leftover of [path, `${path}-wal`, `${path}-shm`]) rmSync(leftover, { force: true });
	log(`seeding ${accounts.toLocaleString('en-US')} accounts (SQLite)…`);
	const out = run(
		'npx',
		['tsx', 'scripts/seed.ts', '--accounts', String(accounts), '--database-url', `file:${path}`],
		{ env: { APP_SECRET_KEYS: benchKeys } }
	).out;
	writeFileSync(`${path}.done`, out);
	return { path, seconds: Number(/in ([\d.]+) s/.exec(out)?.[1] ?? NaN) };
}

/** A fresh PostgreSQL database on the server POSTGRES names, seeded like the SQLite one. */
async function seedPostgres(accounts: number): Promise<string> {
	const admin = new URL(POSTGRES);
	const name = 'asc_bench';
	const client = new pg.Client({ connectionString: admin.toString() });
	await client.connect();
	await client.query(`drop database if exists ${name} with (force)`);
	await client.query(`create database ${name}`);
	await client.end();
	const url = new URL(admin.toString());
	url.pathname = `/${name}`;
	log(`seeding ${accounts.toLocaleString('en-US')} accounts (PostgreSQL)…`);
	run(
		'npx',
		['tsx', 'scripts/seed.ts', '--accounts', String(accounts), '--database-url', url.toString()],
		{ env: { APP_SECRET_KEYS: benchKeys } }
	);
	return url.toString();
}

function build(): void {
	if (SKIP_BUILD) return;
	log('building the app (under /tmp/asc-e2e.lock) and the pristine app…');
	run('flock', ['/tmp/asc-e2e.lock', 'npx', 'vite', 'build']);
	run('npx', ['vite', 'build'], { cwd: 'bench/pristine' });
}

async function profile(): Promise<void> {
	build();
	const large = seedSqlite(1_000_000);
	const ids = identifiers(large.path, 20_000);
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
	const m = await warmAndMeasure(server.origin, load);
	await server.stop();
	const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
	if (!file) throw new Error(`no profile in ${dir}`);
	log(
		`${PROFILE_LOAD} load under --cpu-prof: ${Math.round(m.rps)} req/s; profile ${join(dir, file)}`
	);
	console.log(summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), 30));
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const count = (v: number) => Math.round(v).toLocaleString('en-US');
const ratio = (v: number) => `${v.toFixed(2)}×`;
const mib = (v: number) => `${(v / 1048576).toFixed(0)} MiB`;

async function main(): Promise<void> {
	const machine = {
		cpus: availableParallelism(),
		model: cpus()[0]?.model ?? 'unknown',
		memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
		node: process.version,
		date: new Date().toISOString(),
		loadBefore: loadavg().map((v) => v.toFixed(2))
	};
	log(`machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memory}, Node ${machine.node}`);
	log(`load generator: ${WRK ? 'wrk (2 threads)' : 'autocannon (in this process)'}`);
	build();
	const small = seedSqlite(10_000);
	const large = seedSqlite(1_000_000);
	const smallIds = identifiers(small.path, 5_000);
	const largeIds = identifiers(large.path, 20_000);

	log('pristine SvelteKit: JSON POST, SSR page, form post…');
	const pristine = await startServer('pristine');
	const pristineJson = await warmAndMeasure(pristine.origin, loads.pristineJson(largeIds.check));
	const pristineRss = peakRss(pristine.pid);
	const pristinePage = await warmAndMeasure(pristine.origin, loads.pristinePage());
	const pristineForm = await warmAndMeasure(pristine.origin, loads.pristineForm(largeIds.check));
	const pristineJs = await initialJs(pristine.origin);
	await pristine.stop();

	// A fresh process, so its peak RSS is the check load's (the pristine one's is its JSON load's).
	log('app, 1,000,000 accounts on SQLite: check API, no-op route, SSR page, form post…');
	let app = await startServer('app-1m', { databaseUrl: `file:${large.path}` });
	const check1m = await warmAndMeasure(app.origin, loads.check(largeIds.check));
	const appRss = peakRss(app.pid);
	const noop = await warmAndMeasure(app.origin, loads.noop());
	const page = await warmAndMeasure(app.origin, loads.page());
	const checkForm = await warmAndMeasure(app.origin, loads.checkForm(largeIds.check));
	const signInLoad = loads.signIn(largeIds.signIn);
	await measure(app.origin, signInLoad, { seconds: WARMUP, connections: SIGN_INS });
	const [checkUnderSignIn, signIns] = await Promise.all([
		measure(app.origin, loads.check(largeIds.check)),
		measure(app.origin, signInLoad, { connections: SIGN_INS })
	]);
	const js = await initialJs(app.origin);
	await app.stop();

	log('app, 10,000 accounts on SQLite: check API…');
	app = await startServer('app-10k', { databaseUrl: `file:${small.path}` });
	const check10k = await warmAndMeasure(app.origin, loads.check(smallIds.check));
	await app.stop();

	let postgres: { one: Measurement; two: Measurement } | null = null;
	if (POSTGRES) {
		const url = await seedPostgres(1_000_000);
		log('app, 1,000,000 accounts on PostgreSQL: one instance, then two…');
		const first = await startServer('pg-1', { databaseUrl: url });
		const one = await warmAndMeasure(first.origin, loads.check(largeIds.check));
		const second = await startServer('pg-2', { databaseUrl: url });
		// Two instances, the connections split between them: one load, round robin by connection.
		const half = { connections: CONNECTIONS / 2 };
		await Promise.all([
			measure(first.origin, loads.check(largeIds.check), { ...half, seconds: WARMUP }),
			measure(second.origin, loads.check(largeIds.check), { ...half, seconds: WARMUP })
		]);
		const [a, b] = await Promise.all([
			measure(first.origin, loads.check(largeIds.check), half),
			measure(second.origin, loads.check(largeIds.check), half)
		]);
		await Promise.all([first.stop(), second.stop()]);
		postgres = {
			one,
			two: {
				rps: a.rps + b.rps,
				p50: Math.max(a.p50, b.p50),
				p99: Math.max(a.p99, b.p99),
				requests: a.requests + b.requests,
				failed: a.failed + b.failed
			}
		};
	}

	const rows: [string, Measurement, Measurement | null][] = [
		['pristine SvelteKit JSON POST', pristineJson, pristineJson],
		['our no-op route (all hooks, nothing else)', noop, pristineJson],
		['`POST /api/v1/check`, 1 M accounts', check1m, pristineJson],
		['`POST /api/v1/check`, 10 k accounts', check10k, pristineJson],
		['pristine SvelteKit SSR page', pristinePage, pristinePage],
		['`GET /` (check page SSR)', page, pristinePage],
		['pristine SvelteKit form post', pristineForm, pristinePage],
		['check form post (JS off), 1 M', checkForm, pristinePage],
		[`check API during ${SIGN_INS} parallel sign-ins, 1 M`, checkUnderSignIn, null],
		[`sign-ins (argon2id), ${SIGN_INS} connections`, signIns, null],
		...(postgres
			? ([
					['check API on PostgreSQL, 1 M, one instance', postgres.one, null],
					['check API on PostgreSQL, 1 M, two instances', postgres.two, null]
				] as [string, Measurement, null][])
			: [])
	];
	const measurements = [
		'| load | req/s | p50 | p99 | requests | failed | ratio |',
		'| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
		...rows.map(
			([name, m, base]) =>
				`| ${name} | ${count(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${count(m.requests)} | ${m.failed} | ${base ? ratio(m.rps / base.rps) : '–'} |`
		),
		`| peak RSS under load | pristine ${mib(pristineRss)} | app ${mib(appRss)} | | | | ${ratio(appRss / pristineRss)} |`
	];

	const failed = rows.reduce((sum, [, m]) => sum + m.failed, 0);
	const targets: [string, string, string, boolean][] = [
		[
			'check API req/s vs pristine JSON, 1 M',
			'≥ 0.75×',
			ratio(check1m.rps / pristineJson.rps),
			check1m.rps >= 0.75 * pristineJson.rps
		],
		[
			'check API p99 vs pristine JSON p99, 1 M',
			'≤ 2×',
			ratio(check1m.p99 / pristineJson.p99),
			check1m.p99 <= 2 * pristineJson.p99
		],
		[
			'check cost at 1 M vs 10 k (req/s 10 k ÷ 1 M)',
			'≤ 1.1×',
			ratio(check10k.rps / check1m.rps),
			check10k.rps <= 1.1 * check1m.rps
		],
		[
			'`GET /` vs pristine SSR page',
			'≥ 0.70×',
			ratio(page.rps / pristinePage.rps),
			page.rps >= 0.7 * pristinePage.rps
		],
		[
			'check form post (JS off) vs pristine SSR page',
			'≥ 0.6×',
			ratio(checkForm.rps / pristinePage.rps),
			checkForm.rps >= 0.6 * pristinePage.rps
		],
		[
			'no-op route (hooks only) vs pristine JSON',
			'≥ 0.85×',
			ratio(noop.rps / pristineJson.rps),
			noop.rps >= 0.85 * pristineJson.rps
		],
		[
			'peak RSS, check load vs pristine under its load',
			'≤ 1.2×',
			`${mib(appRss)} / ${mib(pristineRss)} = ${ratio(appRss / pristineRss)}`,
			appRss <= 1.2 * pristineRss
		],
		[
			'initial JS for / (gzip)',
			'≤ 35 KB',
			`${(js.gzipBytes / 1024).toFixed(1)} KB in ${js.files} files (pristine: ${(pristineJs.gzipBytes / 1024).toFixed(1)} KB in ${pristineJs.files})`,
			js.gzipBytes <= 35 * 1024
		],
		...(postgres
			? ([
					[
						'PostgreSQL: two instances vs one',
						'≥ 1.6×',
						ratio(postgres.two.rps / postgres.one.rps),
						postgres.two.rps >= 1.6 * postgres.one.rps
					]
				] as [string, string, string, boolean][])
			: []),
		['non-2xx answers and socket errors, every load', '0', String(failed), failed === 0]
	];
	const verdicts = [
		'| target | wanted | measured | |',
		'| --- | --- | --- | --- |',
		...targets.map(
			([name, wanted, got, pass]) =>
				`| ${name} | ${wanted} | ${got} | ${pass ? 'met' : '**missed**'} |`
		)
	];
	console.log(['', ...measurements, '', ...verdicts, ''].join('\n'));

	const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
	const analysis = previous.includes(ANALYSIS_MARK)
		? previous.slice(previous.indexOf(ANALYSIS_MARK) + ANALYSIS_MARK.length).trim()
		: '## Where the time goes\n\n(Not written yet: run `npm run bench -- --profile` and write it.)';
	const seeded = large.seconds === null ? 'reused from an earlier run' : `${large.seconds} s`;
	const doc = `# Benchmarks

Produced by \`npm run bench\` (scripts/bench.ts) in one run: the app and a pristine SvelteKit app
(\`bench/pristine\`, the framework's defaults, built from the same \`node_modules\`) measured side by
side, minutes apart, on the same machine. Every ratio compares two rows of this one run.

## Machine

- ${machine.cpus} CPUs (${machine.model}), ${machine.memory} RAM, Node ${machine.node}, ${machine.date}
- load generator: ${WRK ? 'wrk 4.1 (2 threads)' : 'autocannon (in the bench process)'}, on the same machine as the servers; 127.0.0.1 only
- load average (1, 5, 15 min) before the run: ${machine.loadBefore.join(', ')}; after: ${loadavg()
		.map((v) => v.toFixed(2))
		.join(', ')} (anything else running skews every number)

## Method

- \`node build\` (adapter-node, NODE_ENV=production), the app on SQLite seeded by \`npm run seed\`
  with 10,000 and 1,000,000 accounts (seeding 1 M: ${seeded})${POSTGRES ? ', and on PostgreSQL with 1,000,000' : ''}.
- ${CONNECTIONS} connections, ${DURATION} s per measurement after a ${WARMUP} s warm-up.
- The pristine app: \`POST /api/echo\` parses the JSON body and answers; \`/\` is a page with a
  one-field form action. Our no-op route is \`POST /api/bench/noop\` (\`BENCH_ROUTES=1\`): every hook
  of every request, then \`{ok:true}\`.
- The check API and the form post vary the identifier on every request (80 % registered, 20 % not;
  each one a number or address the check accepts); the rate limits are raised so none is refused,
  and every check still counts toward both limits and writes its \`check_events\` row (R15).
- Peak RSS is each server's VmHWM: the pristine app's after its JSON load, the app's after its check
  load (a fresh process for each).
- Two PostgreSQL instances: two \`node build\` processes on the same database, the connections split
  between them (one wrk per instance, run together), req/s summed.
- Initial JS is every script and modulepreload of \`/\`, gzipped at level 9.

## Measurements

${measurements.join('\n')}

## Targets

${verdicts.join('\n')}

${ANALYSIS_MARK}

${analysis}
`;
	writeFileSync(DOC, doc);
	log(`wrote ${DOC}`);
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
