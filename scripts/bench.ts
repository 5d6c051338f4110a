// `npm run bench [-- --duration 10 --connections 32 --skip-build]`: the check against the
// framework's own ceiling, all in one run on this machine, on 127.0.0.1 only. Builds (under the
// e2e lock), seeds 10,000 and 1,000,000 accounts, starts `node build` servers itself, measures
// with autocannon, prints a table and writes docs/BENCHMARKS.md. Every server it starts, it stops.
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { newKeyEntry } from '../src/lib/server/core/keys';

/** Where the time goes (CPU profile of the built server under check load, 1 M accounts). */
const ANALYSIS = `## Where the time goes, and what is next

Profiled with \`node --cpu-prof build\` under the check load:

- Every check makes about a dozen SQL round trips on SQLite's single connection: two rate-limit
  upserts, the account, code, contact-change, appeal, audit and device reads, one \`check_events\`
  insert. Kysely compiles each query (statements are now cached, which took ~10 % off); SQLite
  itself is about 15 % of CPU. Next: one upsert for both rate-limit windows, \`check_events\`
  written in batches, the reads folded into two statements.
- Costs every route pays, the bare ones too: Paraglide's middleware clones each request (~6 %),
  a new device cookie for cookie-less clients (~4 %), the CSP nonce and header hooks.
- The SSR check page also renders the full country list (≈ 250 options) twice per answer.
- Initial JS: Svelte runtime 18 KB, all messages of both languages 14 KB (Paraglide's single
  message module), SvelteKit client 13 KB. Per-locale message chunks would meet 35 KB.
- Peak RSS: SQLite's page cache (16 MB) and the 1 M-row working set; mmap was dropped for this.`;

function option(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const DURATION = Number(option('duration', '10'));
const WARMUP = 3;
const CONNECTIONS = Number(option('connections', '32'));
const SIGN_INS = 8;
const SKIP_BUILD = process.argv.includes('--skip-build');
const PASSWORD = 'seed-password-1';

const work = mkdtempSync(join(tmpdir(), 'asc-bench-'));
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

function run(
	command: string,
	args: string[],
	env: Record<string, string> = {}
): { ms: number; out: string } {
	const started = performance.now();
	const result = spawnSync(command, args, {
		env: { ...process.env, ...env },
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

const benchKeys = newKeyEntry(new Date());

async function startServer(name: string, databasePath: string): Promise<Server> {
	const port = await freePort();
	const origin = `http://127.0.0.1:${port}`;
	const log = openSync(join(work, `${name}.log`), 'a');
	const child = spawn(process.execPath, ['build'], {
		env: {
			PATH: process.env.PATH ?? '',
			NODE_ENV: 'production',
			// A throw-away key ring for the benchmark's own servers.
			APP_SECRET_KEYS: benchKeys,
			HOST: '127.0.0.1',
			PORT: String(port),
			ORIGIN: origin,
			DATABASE_URL: `file:${databasePath}`,
			BENCH_ROUTES: '1',
			// The check's own limits would answer 429 within a second of load.
			CHECK_RATE_LIMIT_PER_IP: '1000000000',
			CHECK_RATE_LIMIT_PER_IDENTIFIER: '1000000000'
		},
		stdio: ['ignore', log, log]
	});
	servers.add(child);
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	for (let i = 0; ; i += 1) {
		if (child.exitCode !== null)
			throw new Error(`${name} server exited; see ${join(work, `${name}.log`)}`);
		try {
			if ((await fetch(`${origin}/healthz`)).ok) break;
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
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
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
	ok: number;
	failed: number;
}

type Load = {
	method: 'POST' | 'GET';
	path: string;
	headers: Record<string, string>;
	body: () => string;
};

async function measure(
	origin: string,
	load: Load,
	options: { duration?: number; connections?: number } = {}
): Promise<Measurement> {
	const result = await autocannon({
		url: origin,
		connections: options.connections ?? CONNECTIONS,
		duration: options.duration ?? DURATION,
		requests: [
			{
				method: load.method,
				path: load.path,
				headers: load.headers,
				setupRequest: (request) => ({ ...request, body: load.body() })
			}
		]
	});
	return {
		rps: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		ok: result['2xx'],
		failed: result.non2xx + result.errors + result.timeouts
	};
}

/** Warm the JIT and caches first, then measure. */
async function warmAndMeasure(
	origin: string,
	load: Load,
	options: { connections?: number } = {}
): Promise<Measurement> {
	await measure(origin, load, { duration: WARMUP, ...options });
	return measure(origin, load, options);
}

/** Registered identifiers from the seeded database, plus 20 % that are not registered. */
function identifiers(databasePath: string, n: number): { check: string[]; signIn: string[] } {
	const db = new BetterSqlite3(databasePath, { readonly: true });
	const rows = db
		.prepare(
			'select email, phone, status from accounts where rowid in (select rowid from accounts order by random() limit ?)'
		)
		.all(n) as { email: string | null; phone: string | null; status: string }[];
	db.close();
	const check = rows.map((r, i) =>
		i % 5 === 4 ? `nobody.${i}@example.com` : ((r.email ?? r.phone) as string)
	);
	const signIn = rows
		.filter((r) => r.status !== 'disabled')
		.map((r) => (r.email ?? r.phone) as string);
	return { check, signIn };
}

function cycle<T>(items: T[]): () => T {
	let i = 0;
	return () => items[(i++ * 7919) % items.length] as T;
}

const json = { 'content-type': 'application/json' };
const loads = {
	noop: (): Load => ({ method: 'POST', path: '/api/bench/noop', headers: json, body: () => '{}' }),
	check: (ids: string[]): Load => {
		const next = cycle(ids);
		return {
			method: 'POST',
			path: '/api/v1/check',
			headers: json,
			body: () => JSON.stringify({ identifier: next() })
		};
	},
	signIn: (ids: string[]): Load => {
		const next = cycle(ids);
		return {
			method: 'POST',
			path: '/api/v1/sessions',
			headers: json,
			body: () => JSON.stringify({ identifier: next(), password: PASSWORD })
		};
	},
	// JavaScript off: a plain form post, answered with the whole page (R14).
	checkForm: (origin: string, ids: string[]): Load => {
		const next = cycle(ids);
		return {
			method: 'POST',
			path: '/?/check',
			headers: { 'content-type': 'application/x-www-form-urlencoded', origin, accept: 'text/html' },
			body: () => new URLSearchParams({ identifier: next(), country: 'CN' }).toString()
		};
	},
	bareForm: (origin: string): Load => ({
		method: 'POST',
		path: '/bench/bare?/echo',
		headers: { 'content-type': 'application/x-www-form-urlencoded', origin, accept: 'text/html' },
		body: () => 'text=hello'
	})
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

const log = (message: string) => console.log(`[bench] ${message}`);
const ms = (v: number) => `${v.toFixed(1)} ms`;
const rps = (v: number) => `${Math.round(v).toLocaleString('en-US')}`;
const pct = (v: number) => `${Math.round(v * 100)} %`;
const mb = (v: number) => `${(v / 1048576).toFixed(0)} MB`;

async function main() {
	const machine = {
		cpus: availableParallelism(),
		model: cpus()[0]?.model ?? 'unknown',
		memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
		node: process.version,
		date: new Date().toISOString(),
		loadBefore: loadavg()[0]?.toFixed(2) ?? '?'
	};
	log(`machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memory}, Node ${machine.node}`);

	if (!SKIP_BUILD) {
		log('building (under /tmp/asc-e2e.lock)…');
		run('flock', ['/tmp/asc-e2e.lock', 'npx', 'vite', 'build']);
	}

	const small = join(work, 'accounts-10k.db');
	const large = join(work, 'accounts-1m.db');
	log('seeding 10,000 accounts…');
	run('npx', ['tsx', 'scripts/seed.ts', '--accounts', '10000', '--database-url', `file:${small}`]);
	log('seeding 1,000,000 accounts…');
	const seeded = run('npx', [
		'tsx',
		'scripts/seed.ts',
		'--accounts',
		'1000000',
		'--database-url',
		`file:${large}`
	]);
	const seedInner = Number(/in ([\d.]+) s/.exec(seeded.out)?.[1] ?? NaN);
	log(seeded.out.trim().split('\n')[0] ?? '');

	// 10,000 accounts: the API against the bare endpoint.
	const smallIds = identifiers(small, 5_000);
	let server = await startServer('10k', small);
	log('10k: noop, check API…');
	const noop10k = await warmAndMeasure(server.origin, loads.noop());
	const check10k = await warmAndMeasure(server.origin, loads.check(smallIds.check));
	await server.stop();

	// 1,000,000 accounts on a fresh process, so its peak RSS starts from the bare load alone.
	const largeIds = identifiers(large, 20_000);
	server = await startServer('1m', large);
	log('1M: noop, check API, SSR, sign-in load…');
	const noop1m = await warmAndMeasure(server.origin, loads.noop());
	const rssBare = peakRss(server.pid);
	const check1m = await warmAndMeasure(server.origin, loads.check(largeIds.check));
	const rssCheck = peakRss(server.pid);
	const bareSsr = await warmAndMeasure(server.origin, loads.bareForm(server.origin));
	const checkSsr = await warmAndMeasure(
		server.origin,
		loads.checkForm(server.origin, largeIds.check)
	);
	const signInLoad = loads.signIn(largeIds.signIn);
	await measure(server.origin, signInLoad, { duration: WARMUP, connections: SIGN_INS });
	const [checkUnderSignIn, signIns] = await Promise.all([
		measure(server.origin, loads.check(largeIds.check)),
		measure(server.origin, signInLoad, { connections: SIGN_INS })
	]);
	const js = await initialJs(server.origin);
	await server.stop();

	const rows: [string, Measurement][] = [
		['bare noop endpoint, 10k accounts', noop10k],
		['POST /api/v1/check, 10k accounts', check10k],
		['bare noop endpoint, 1M accounts', noop1m],
		['POST /api/v1/check, 1M accounts', check1m],
		['bare SSR page form post, 1M', bareSsr],
		['check page form post (JS off), 1M', checkSsr],
		[`check API during ${SIGN_INS} parallel sign-ins, 1M`, checkUnderSignIn],
		[`sign-ins (argon2id), ${SIGN_INS} connections`, signIns]
	];
	const measurements = [
		'| load | req/s | p50 | p99 | 2xx | failed |',
		'| --- | ---: | ---: | ---: | ---: | ---: |',
		...rows.map(
			([name, m]) =>
				`| ${name} | ${rps(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${m.ok} | ${m.failed} |`
		)
	];

	const targets: [string, string, string, boolean][] = [
		[
			'check API req/s vs bare, 10k',
			'≥ 75 %',
			pct(check10k.rps / noop10k.rps),
			check10k.rps / noop10k.rps >= 0.75
		],
		[
			'check API p99 vs bare, 10k',
			'≤ 1.5×',
			`${(check10k.p99 / noop10k.p99).toFixed(2)}×`,
			check10k.p99 <= 1.5 * noop10k.p99
		],
		[
			'check API req/s vs bare, 1M',
			'≥ 75 %',
			pct(check1m.rps / noop1m.rps),
			check1m.rps / noop1m.rps >= 0.75
		],
		[
			'check API p99 vs bare, 1M',
			'≤ 1.5×',
			`${(check1m.p99 / noop1m.p99).toFixed(2)}×`,
			check1m.p99 <= 1.5 * noop1m.p99
		],
		[
			'cost per check at 1M vs 10k (req/s 10k ÷ 1M)',
			'≤ 1.1×',
			`${(check10k.rps / check1m.rps).toFixed(2)}×`,
			check10k.rps / check1m.rps <= 1.1
		],
		[
			'SSR check page vs bare SSR page',
			'≥ 70 %',
			pct(checkSsr.rps / bareSsr.rps),
			checkSsr.rps / bareSsr.rps >= 0.7
		],
		[
			'check p99 under sign-ins vs idle',
			'≤ 2×',
			`${(checkUnderSignIn.p99 / check1m.p99).toFixed(2)}×`,
			checkUnderSignIn.p99 <= 2 * check1m.p99
		],
		[
			'peak RSS, check load vs bare load',
			'≤ 1.2×',
			`${mb(rssCheck)} / ${mb(rssBare)} = ${(rssCheck / rssBare).toFixed(2)}×`,
			rssCheck <= 1.2 * rssBare
		],
		[
			'initial JS for / (gzip)',
			'≤ 35 KB',
			`${(js.gzipBytes / 1024).toFixed(1)} KB in ${js.files} files`,
			js.gzipBytes <= 35 * 1024
		],
		[
			'seeding 1M accounts with histories',
			'≤ 20 s',
			`${seedInner.toFixed(1)} s (${(seeded.ms / 1000).toFixed(1)} s with tsx start-up)`,
			seedInner <= 20
		]
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

	const doc = `# Benchmarks

Produced by \`npm run bench\` (scripts/bench.ts) in one run; every ratio compares two loads measured
minutes apart on the same machine, the same build and the same database file.

## Machine

- ${machine.cpus} CPUs (${machine.model}), ${machine.memory} RAM, Node ${machine.node}, ${machine.date}
- load generator (autocannon, in the bench process) and server share the machine; 127.0.0.1 only
- 1-minute load average ${machine.loadBefore} before the run, ${loadavg()[0]?.toFixed(2)} after (anything else running skews every number)

## Method

- \`node build\` (adapter-node, NODE_ENV=production) on SQLite, seeded by \`npm run seed\` with
  10,000 and 1,000,000 accounts (contact-change histories, codes, appeals).
- ${CONNECTIONS} connections, ${DURATION} s per measurement after a ${WARMUP} s warm-up.
- "bare" is \`POST /api/bench/noop\` (returns \`{ok:true}\`) and \`/bench/bare\` (a page with a one-field form
  action), both behind \`BENCH_ROUTES=1\` and running through the same hooks as every route: the
  framework's ceiling for this app.
- The check API varies the identifier on every request (80 % registered, 20 % not); its rate limits
  are raised so no request is refused. Every check still writes its two rate-limit windows and one
  \`check_events\` row.
- The sign-in load is ${SIGN_INS} connections signing in with the right password (argon2id verify) while
  the check API runs at ${CONNECTIONS} connections; "idle" is the 1M check measurement above.
- Peak RSS is the server's VmHWM after the bare load, then after the check load (same process).
- Initial JS is every script and modulepreload in the HTML of \`/\`, gzipped at level 9.

## Measurements

${measurements.join('\n')}

## Targets

${verdicts.join('\n')}

${ANALYSIS}
`;
	mkdirSync('docs', { recursive: true });
	writeFileSync('docs/BENCHMARKS.md', doc);
	log('wrote docs/BENCHMARKS.md');
}

try {
	await main();
	rmSync(work, { recursive: true, force: true });
} catch (error) {
	console.error(error);
	console.error(`[bench] server logs and databases kept in ${work}`);
	process.exitCode = 1;
} finally {
	stopAll();
}
