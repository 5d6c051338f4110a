import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { E2E_SECRET_KEYS } from '../support/keys';
import { pngBytes } from '../support/documents';
import { AGENT_PASSWORD, createAgentWithCli, totpNow } from './agents';

/**
 * docs/rules.md §9: two built app processes (`node build`) on ONE fresh PostgreSQL database
 * share codes (R6), rate limits (R15), the contact-change quota (R16/R17) and the outbox (R7).
 * Everything talks to 127.0.0.1 only: the two instances, a tiny SMS-gateway stub, PostgreSQL.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'a long and quiet river';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;

interface SmsRecord {
	to: string;
	text: string;
	reference: string;
	idempotencyKey: string | undefined;
	authorization: string | undefined;
}

interface Instance {
	name: 'A' | 'B';
	port: number;
	origin: string;
	child: ChildProcess;
	log: string[];
	exited: { code: number | null; signal: NodeJS.Signals | null } | null;
}

let adminUrl: string | undefined;
let databaseName: string | undefined;
let databaseUrl = '';
let stub: Server | undefined;
let stubPort = 0;
const smsLog: SmsRecord[] = [];
const instances: Instance[] = [];
const contexts: APIRequestContext[] = [];
/** Every phone this file sent a message to: test 4 reads each one's outbox. */
const phonesUsed = new Set<string>();
/** Findings worth reporting, surfaced as annotations on the first test. */
const findings: string[] = [];

let phoneSeq = Number(BigInt('0x' + randomBytes(4).toString('hex')) % 900_000n);
/** A unique CN mobile in E.164, +8613800xxxxxx. */
function phone(): string {
	const value = `+8613800${String((++phoneSeq * 10_007) % 1_000_000).padStart(6, '0')}`;
	phonesUsed.add(value);
	return value;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>, url = adminUrl): Promise<T> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		return await run(client);
	} finally {
		await client.end();
	}
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

/** The SMS gateway: records every POST and answers 200, as a well-behaved gateway would. */
async function startStub(): Promise<void> {
	stub = createServer((req, res) => {
		void (async () => {
			const body = await readBody(req);
			if (req.method === 'POST' && req.url === '/sms') {
				let parsed: { to: string; text: string; reference: string };
				try {
					parsed = JSON.parse(body) as typeof parsed;
				} catch {
					res.writeHead(400).end();
					return;
				}
				const key = req.headers['idempotency-key'];
				smsLog.push({
					to: parsed.to,
					text: parsed.text,
					reference: parsed.reference,
					idempotencyKey: Array.isArray(key) ? key.join(',') : key,
					authorization: req.headers.authorization
				});
				res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
			} else {
				res.writeHead(404).end();
			}
		})();
	});
	await new Promise<void>((resolve) => stub!.listen(0, '127.0.0.1', resolve));
	stubPort = (stub.address() as AddressInfo).port;
}

function spawnInstance(name: 'A' | 'B', port: number): Instance {
	const origin = `http://127.0.0.1:${port}`;
	// A minimal environment, so nothing from the runner (REDIS_URL, SMTP_URL, DATABASE_URL …) leaks in:
	// the default, database-backed stores are what is proven here.
	const env: NodeJS.ProcessEnv = {
		PATH: process.env.PATH,
		HOME: process.env.HOME,
		PORT: String(port),
		HOST: '127.0.0.1',
		ORIGIN: origin,
		DATABASE_URL: databaseUrl,
		APP_TEST_HOOKS: '1',
		TRUST_PROXY: '1',
		NODE_ENV: 'production',
		APP_SECRET_KEYS: E2E_SECRET_KEYS,
		SMS_GATEWAY_URL: `http://127.0.0.1:${stubPort}/sms`,
		SMS_GATEWAY_TOKEN: 'test-token',
		CHECK_RATE_LIMIT_PER_IDENTIFIER: '3'
	};
	// Each instance runs in a working folder of its own, as on two hosts: nothing they share can
	// come from the local disk (identity documents live in the database, R19).
	const cwd = mkdtempSync(join(tmpdir(), `asc-instance-${name}-`));
	const child = spawn(process.execPath, [join(repoRoot, 'build')], {
		cwd,
		env,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const instance: Instance = { name, port, origin, child, log: [], exited: null };
	const keep = (chunk: Buffer) => {
		instance.log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
		if (instance.log.length > 200) instance.log.splice(0, instance.log.length - 200);
	};
	child.stdout?.on('data', keep);
	child.stderr?.on('data', keep);
	child.on('exit', (code, signal) => {
		instance.exited = { code, signal };
	});
	return instance;
}

function explain(instance: Instance): string {
	const status = instance.exited
		? `exited (code ${instance.exited.code}, signal ${instance.exited.signal})`
		: 'running';
	return `instance ${instance.name} on :${instance.port} ${status}; last output:\n  ${instance.log.slice(-25).join('\n  ')}`;
}

/** Polls `path` until it answers 200; fails early when the process has exited. */
async function waitFor(
	instance: Instance,
	path: string,
	timeoutMs = START_TIMEOUT_MS
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (instance.exited) throw new Error(`${path}: ${explain(instance)}`);
		try {
			const res = await fetch(`${instance.origin}${path}`, { signal: AbortSignal.timeout(2_000) });
			await res.body?.cancel();
			if (res.status === 200) return;
		} catch {
			// not listening yet
		}
		await sleep(200);
	}
	throw new Error(`${path} did not answer 200 within ${timeoutMs} ms: ${explain(instance)}`);
}

async function stopInstance(instance: Instance): Promise<void> {
	if (instance.exited) return;
	const exited = new Promise<void>((resolve) => instance.child.once('exit', () => resolve()));
	instance.child.kill('SIGTERM');
	const graceful = await Promise.race([
		exited.then(() => true),
		sleep(STOP_TIMEOUT_MS).then(() => false)
	]);
	if (!graceful && !instance.exited) {
		instance.child.kill('SIGKILL');
		await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
	}
}

async function startBoth(): Promise<void> {
	const ports = [await freePort(), await freePort()] as const;
	// Both at once on the empty database: they race to apply the migrations, as a rollout would.
	const a = spawnInstance('A', ports[0]);
	const b = spawnInstance('B', ports[1]);
	try {
		await Promise.all([waitFor(a, '/healthz'), waitFor(b, '/healthz')]);
		instances.push(a, b);
	} catch (error) {
		findings.push(
			`FINDING: two instances started at once on an empty PostgreSQL database did not both come up ` +
				`(migration/start-up race): ${error instanceof Error ? error.message : String(error)}`
		);
		console.warn(findings.at(-1));
		await Promise.all([stopInstance(a), stopInstance(b)]);
		// Fallback: one at a time, the second only after the first reports ready (migrations applied).
		const first = spawnInstance('A', ports[0]);
		instances.push(first);
		await waitFor(first, '/healthz');
		await waitFor(first, '/readyz');
		const second = spawnInstance('B', ports[1]);
		instances.push(second);
		await waitFor(second, '/healthz');
	}
	for (const instance of instances) await waitFor(instance, '/readyz');
}

async function api(
	baseURL: string,
	ip: string,
	storageState?: Awaited<ReturnType<APIRequestContext['storageState']>>
): Promise<APIRequestContext> {
	const context = await request.newContext({
		baseURL,
		extraHTTPHeaders: { 'x-forwarded-for': ip },
		...(storageState ? { storageState } : {})
	});
	contexts.push(context);
	return context;
}

function origins(): { A: string; B: string } {
	const [a, b] = instances;
	if (!a || !b) throw new Error('the instances did not start (see beforeAll)');
	return { A: a.origin, B: b.origin };
}

interface OutboxMessage {
	to: string;
	channel: string;
	purpose: string;
	code?: string;
	text: string;
	createdAt: string;
}

async function outboxFor(context: APIRequestContext, to: string): Promise<OutboxMessage[]> {
	const res = await context.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
	expect(res.status(), await res.text()).toBe(200);
	return ((await res.json()) as { messages: OutboxMessage[] }).messages;
}

/** The newest code sent to `to`, read through whichever instance `context` talks to. */
async function codeFor(context: APIRequestContext, to: string, purpose: string): Promise<string> {
	let code: string | undefined;
	await expect(async () => {
		const [latest] = await outboxFor(context, to);
		expect(latest?.purpose).toBe(purpose);
		code = latest?.code;
		expect(code).toMatch(/^\d{6}$/);
	}).toPass({ timeout: 5_000 });
	return code!;
}

async function expectStatus(
	res: Awaited<ReturnType<APIRequestContext['post']>>,
	status: number
): Promise<void> {
	expect(res.status(), `${res.url()} → ${res.status()} ${await res.text()}`).toBe(status);
}

/**
 * R3/R6: a registration is finished by the client that started it: its `registration` cookie
 * travels with it from one instance to the other, as a browser's would behind a load balancer.
 */
async function startersCookie(start: APIRequestContext): Promise<Record<string, string>> {
	const cookie = (await start.storageState()).cookies.find((c) => c.name === 'registration');
	expect(cookie, 'the start set a registration cookie').toBeDefined();
	return { cookie: `registration=${cookie!.value}` };
}

/** Registers `identifier` starting on `start` and confirming on `finish`; `finish` ends up signed in. */
async function register(
	start: APIRequestContext,
	finish: APIRequestContext,
	identifier: string
): Promise<void> {
	await expectStatus(
		await start.post('/api/v1/registrations', {
			data: { identifier, password: PASSWORD, country: 'CN' }
		}),
		202
	);
	const code = await codeFor(finish, identifier, 'register');
	await expectStatus(
		await finish.post('/api/v1/registrations/confirm', {
			data: { identifier, code },
			headers: await startersCookie(start)
		}),
		201
	);
}

async function signIn(context: APIRequestContext, identifier: string): Promise<void> {
	await expectStatus(
		await context.post('/api/v1/sessions', { data: { identifier, password: PASSWORD } }),
		201
	);
}

/** Waits until nothing is waiting in the outbox, so no worker is mid-send when the clocks move. */
async function outboxDrained(timeoutMs = 20_000): Promise<void> {
	await expect
		.poll(
			() =>
				admin(
					(c) =>
						c
							.query<{ n: string }>(`select count(*) as n from outbox where status = 'pending'`)
							.then((r) => Number(r.rows[0]!.n)),
					databaseUrl
				),
			{ timeout: timeoutMs, message: 'outbox rows still pending' }
		)
		.toBe(0);
}

test.describe.configure({ mode: 'serial' });

test.describe('two instances on one PostgreSQL database (docs/rules.md §9)', () => {
	test.beforeAll(async () => {
		test.setTimeout(180_000);
		adminUrl = process.env.TEST_DATABASE_URL;
		if (!adminUrl || !/^postgres(ql)?:\/\//i.test(adminUrl)) {
			throw new Error(
				'tests/e2e/multi-instance.spec.ts needs PostgreSQL in TEST_DATABASE_URL: `npm test` starts ' +
					'one of its own unless it names one (scripts/test-services.ts). It is never skipped.'
			);
		}
		databaseName = `asc_multi_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
		await admin((c) => c.query(`create database ${databaseName}`));
		const url = new URL(adminUrl);
		url.pathname = `/${databaseName}`;
		databaseUrl = url.toString();
		await startStub();
		await startBoth();
	});

	test.afterAll(async () => {
		test.setTimeout(60_000);
		await Promise.all(contexts.map((c) => c.dispose().catch(() => {})));
		await Promise.all(instances.map(stopInstance));
		if (stub) await new Promise<void>((resolve) => stub!.close(() => resolve()));
		if (databaseName)
			await admin((c) => c.query(`drop database if exists ${databaseName} with (force)`));
	});

	test('R6: a code issued via instance A is accepted via instance B', async () => {
		for (const finding of findings)
			test.info().annotations.push({ type: 'finding', description: finding });
		const { A, B } = origins();
		const viaA = await api(A, '1.0.1.1');
		const viaB = await api(B, '1.0.1.1');
		const identifier = phone();
		await expectStatus(
			await viaA.post('/api/v1/registrations', {
				data: { identifier, password: PASSWORD, country: 'CN' }
			}),
			202
		);
		// The same row is visible through either instance's outbox hook.
		const code = await codeFor(viaA, identifier, 'register');
		expect(await codeFor(viaB, identifier, 'register')).toBe(code);
		const confirmed = await viaB.post('/api/v1/registrations/confirm', {
			data: { identifier, code },
			headers: await startersCookie(viaA)
		});
		await expectStatus(confirmed, 201);
		expect(await confirmed.json()).toEqual({ account: { status: 'active' } });
		// The session made by B is honoured by A (sessions live in the shared database).
		const onA = await api(A, '1.0.1.1', await viaB.storageState());
		expect((await onA.get('/api/v1/account')).status()).toBe(200);
	});

	test('R15: a rate limit tripped via one instance holds on the other', async () => {
		const { A, B } = origins();
		const viaA = await api(A, '1.0.1.2');
		const viaB = await api(B, '1.0.1.2');
		const identifier = phone();
		const check = (context: APIRequestContext) =>
			context.post('/api/v1/check', { data: { identifier } });
		for (const context of [viaA, viaB, viaA]) await expectStatus(await check(context), 200);
		for (const context of [viaB, viaA]) {
			const limited = await check(context);
			await expectStatus(limited, 429);
			expect(Number(limited.headers()['retry-after'])).toBeGreaterThan(0);
			expect(((await limited.json()) as { error: { code: string } }).error.code).toBe(
				'rate_limited'
			);
		}
	});

	test('R16/R17: the contact-change quota race across both instances yields one change', async () => {
		test.setTimeout(90_000);
		const { A, B } = origins();
		const ip = '1.0.1.3';
		const viaA = await api(A, ip);
		const viaB = await api(B, ip);
		const first = phone();
		const second = phone();

		// Registered via B, confirmed (and signed in) via A; then also signed in via B.
		await register(viaB, viaA, first);
		await signIn(viaB, first);

		// One real change: started via B, confirmed via A.
		await expectStatus(
			await viaB.post('/api/v1/account/contact-changes', {
				data: { currentPassword: PASSWORD, newIdentifier: second }
			}),
			202
		);
		const firstCode = await codeFor(viaA, second, 'contact_change');
		const changed = await viaA.post('/api/v1/account/contact-changes/confirm', {
			data: { code: firstCode }
		});
		await expectStatus(changed, 200);
		const firstChangeAt = new Date().toISOString();
		expect(((await changed.json()) as { contactChange: { used: number } }).contactChange.used).toBe(
			1
		);
		// R17 across instances: A's change signed out the session B holds.
		expect((await viaB.get('/api/v1/account')).status()).toBe(401);

		// Each instance has its own test clock: move both by the same amount, with no message mid-send.
		await outboxDrained();
		const advanceMs = 7 * DAY_MS + 3_600_000;
		const moved = await Promise.all(
			[viaA, viaB].map((c) => c.post('/api/test/clock', { data: { advanceMs } }))
		);
		for (const res of moved) await expectStatus(res, 200);

		// Sessions idle-expire after 24 h: sign in again on both.
		await signIn(viaA, second);
		await signIn(viaB, second);
		// R6: an account has one live contact-change code, so the race is that code confirmed on
		// both instances at once.
		const third = phone();
		await expectStatus(
			await viaA.post('/api/v1/account/contact-changes', {
				data: { currentPassword: PASSWORD, newIdentifier: third }
			}),
			202
		);
		const thirdCode = await codeFor(viaB, third, 'contact_change');

		// Both confirmations at once, one per instance, under B's session (valid on A too), so the
		// loser is refused by the quota itself and not merely by the winner signing others out.
		const raceOnA = await api(A, ip, await viaB.storageState());
		const results = await Promise.all([
			raceOnA.post('/api/v1/account/contact-changes/confirm', { data: { code: thirdCode } }),
			viaB.post('/api/v1/account/contact-changes/confirm', { data: { code: thirdCode } })
		]);
		const outcomes = await Promise.all(
			results.map(async (r) => ({
				status: r.status(),
				body: (await r.json()) as { error?: { code: string; nextAllowedAt?: string } }
			}))
		);
		expect(outcomes.map((o) => o.status).sort(), JSON.stringify(outcomes)).toEqual([200, 409]);
		const loser = outcomes.find((o) => o.status === 409)!;
		// After the winner both rules bind (2 changes in 180 days, the last one just now); the service
		// names the one that ends later, the exhausted quota, whose nextAllowedAt is the first change + 180 d.
		expect(['change_quota_exhausted', 'change_too_soon']).toContain(loser.body.error?.code);
		expect(Date.parse(loser.body.error?.nextAllowedAt ?? '')).toBeGreaterThan(
			Date.parse(firstChangeAt) + 7 * DAY_MS
		);

		// Exactly two changes recorded, and the account holds the winner's number.
		const winner = third;
		const rows = await admin(
			(c) =>
				c.query<{ new_identifier: string }>(
					`select cc.new_identifier from contact_changes cc join accounts a on a.id = cc.account_id where a.phone = $1 order by cc.changed_at`,
					[winner]
				),
			databaseUrl
		);
		expect(rows.rows.map((r) => r.new_identifier)).toEqual([second, winner]);
		const account = await viaB.get('/api/v1/account');
		await expectStatus(account, 200);
		// The owner's view read via B lists exactly the two changes (it carries no quota block; see report).
		const { activity } = (await account.json()) as { activity: { action: string }[] };
		expect(activity.filter((a) => a.action === 'account.contact_changed')).toHaveLength(2);
	});

	test('R7: no message is sent twice across the two outbox workers', async () => {
		test.setTimeout(60_000);
		const { A, B } = origins();
		const viaA = await api(A, '1.0.1.4');
		const viaB = await api(B, '1.0.1.4');
		// What the app wrote for each phone, read per recipient through alternating instances.
		const expected: { to: string; text: string }[] = [];
		let i = 0;
		for (const to of phonesUsed) {
			const messages = await outboxFor(i++ % 2 ? viaB : viaA, to);
			for (const m of messages) {
				expect(m.channel).toBe('sms');
				expected.push({ to: m.to, text: m.text });
			}
		}
		// 1 code (test 1) + 2 registration/change codes, 1 race code and 2 change notices (test 3).
		expect(expected.length).toBeGreaterThanOrEqual(6);

		// Every message reaches the gateway…
		await expect
			.poll(() => smsLog.length, {
				timeout: 30_000,
				message: `SMS stub got ${smsLog.length} of ${expected.length}`
			})
			.toBeGreaterThanOrEqual(expected.length);
		// …every row is marked sent, and one more worker tick (1 s) passes, so a late duplicate from
		// the other instance's worker would have arrived too.
		await expect
			.poll(
				() =>
					admin(
						(c) =>
							c
								.query<{ n: string }>(`select count(*) as n from outbox where status <> 'sent'`)
								.then((r) => Number(r.rows[0]!.n)),
						databaseUrl
					),
				{ timeout: 20_000, message: 'outbox rows not yet sent' }
			)
			.toBe(0);
		await sleep(1_500);

		const references = smsLog.map((s) => s.reference);
		expect(new Set(references).size, 'duplicate references at the gateway').toBe(references.length);
		for (const s of smsLog) {
			expect(s.idempotencyKey).toBe(s.reference);
			expect(s.authorization).toBe('Bearer test-token');
		}
		const key = (m: { to: string; text: string }) => `${m.to}\n${m.text}`;
		expect(smsLog.map(key).sort()).toEqual(expected.map(key).sort());

		// Cross-check with the table: every SMS row was sent, once, under its own id.
		const rows = await admin(
			(c) =>
				c.query<{ id: string; status: string }>(
					`select id, status from outbox where channel = 'sms'`
				),
			databaseUrl
		);
		expect(
			rows.rows.every((r) => r.status === 'sent'),
			JSON.stringify(rows.rows)
		).toBe(true);
		expect(rows.rows.map((r) => r.id).sort()).toEqual([...references].sort());
	});

	test('R19/R22: a document uploaded through A is opened by an agent through B (separate working folders)', async () => {
		test.setTimeout(90_000);
		const { A, B } = origins();
		// TOTP below comes from real time: put both test clocks back on it.
		for (const origin of [A, B]) {
			const context = await api(origin, '1.0.1.5');
			await expectStatus(
				await context.post('/api/test/clock', { data: { now: new Date().toISOString() } }),
				200
			);
		}
		const viaA = await api(A, '1.0.1.5');
		const newContact = `found.${randomBytes(3).toString('hex')}@example.com`;
		await expectStatus(
			await viaA.post('/api/v1/verifications', {
				data: { identifier: newContact, purpose: 'appeal' }
			}),
			202
		);
		const code = await codeFor(viaA, newContact, 'appeal');
		const form = new FormData();
		form.append('identifier', `lost.${randomBytes(3).toString('hex')}@example.com`);
		form.append('newIdentifier', newContact);
		form.append('newIdentifierCode', code);
		form.append('description', 'My phone was stolen and the SIM card cancelled last week.');
		form.append('documents', new File([Buffer.from(pngBytes())], 'id.png', { type: 'image/png' }));
		const submitted = await viaA.post('/api/v1/appeals', {
			multipart: form,
			headers: { origin: A }
		});
		await expectStatus(submitted, 201);
		const { reference } = (await submitted.json()) as { reference: string };
		const { rows } = await admin(
			(c) =>
				c.query<{ id: string }>(
					`select d.id from appeal_documents d join appeals a on a.id = d.appeal_id where a.reference = $1`,
					[reference]
				),
			databaseUrl
		);
		expect(rows.length).toBeGreaterThan(0);

		const username = `multi-${Date.now().toString(36)}`;
		const { totpSecret } = createAgentWithCli(username, databaseUrl);
		const agentViaB = await api(B, '1.0.1.6');
		const signedIn = await agentViaB.post('/support/login', {
			form: { username, password: AGENT_PASSWORD, otp: totpNow(totpSecret) },
			// As a browser posts the form (no JavaScript): the answer is a redirect to the console.
			headers: { origin: B, accept: 'text/html' },
			maxRedirects: 0
		});
		expect(signedIn.status(), await signedIn.text()).toBe(303);
		for (const { id } of rows) {
			const opened = await agentViaB.get(`/support/documents/${id}`);
			expect(opened.status(), `document ${id} through B`).toBe(200);
			expect(opened.headers()['content-type']).toMatch(/^image\//);
			expect((await opened.body()).length).toBeGreaterThan(0);
		}
	});
});
