import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FixedClock } from '../../src/lib/server/core/clock';
import { parseConfig } from '../../src/lib/server/core/config';
import type { Ctx } from '../../src/lib/server/core/context';
import {
	createTransports,
	type Transport,
	type TransportOptions
} from '../../src/lib/server/messaging/transports';
import {
	createOutboxWorker,
	retryDelayMs,
	type OutboxWorkerDeps
} from '../../src/lib/server/messaging/worker';
import {
	enqueueMessage,
	listOutboxFor,
	type OutgoingMessage
} from '../../src/lib/server/messaging/outbox';
import { load as devOutboxLoad } from '../../src/routes/dev/outbox/+page.server';
import { createSmsGateway, SMS_GATEWAY_TOKEN, SMS_GATEWAY_URL } from '../mocks/sms-gateway';
import { testAppContext } from '../support/app-context';
import { messageText } from '../support/codes';
import { testKeyring } from '../../src/lib/server/core/keys';
import { testDatabases, type TestDatabase } from '../support/databases';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';
import { startSmtpServer, type SmtpServer } from '../support/smtp-server';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const START = '2026-11-26T12:00:00Z';
const MINUTE = 60_000;

let codeSequence = 100_000;
function nextCode(): string {
	codeSequence += 7_919;
	return String(codeSequence % 1_000_000).padStart(6, '0');
}

function smsMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
	return {
		channel: 'sms',
		recipient: uniqueCnMobile(),
		purpose: 'register',
		locale: 'en',
		subject: null,
		body: `[Account Security Check] ${nextCode()} is your code. Expires in 5 min.`,
		...overrides
	};
}

function emailMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
	const code = nextCode();
	return {
		channel: 'email',
		recipient: uniqueEmail(),
		purpose: 'register',
		locale: 'en',
		subject: `Your verification code: ${code}`,
		body: `${code} is your Account Security Check code. It expires in 5 minutes.`,
		...overrides
	};
}

function configFor(env: Record<string, string> = {}) {
	return parseConfig({
		NODE_ENV: 'test',
		SMS_GATEWAY_URL,
		SMS_GATEWAY_TOKEN,
		...env
	});
}

/** Collects the worker's log events, to prove what they never contain. */
function recordingLog() {
	const events: { event: string; data: Record<string, unknown> }[] = [];
	return {
		events,
		log: (event: string, data: Record<string, unknown>) => void events.push({ event, data })
	};
}

describe.each(testDatabases)('R7 message delivery on $name', ({ open }) => {
	let database: TestDatabase;
	let clock: FixedClock;
	let ctx: Ctx;
	const keys = testKeyring();
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());
	beforeEach(async () => {
		await database.db.deleteFrom('outbox').execute();
		clock = new FixedClock(START);
		ctx = { ...testAppContext(database), clock, keys };
	});

	async function row(id: string) {
		return database.db
			.selectFrom('outbox')
			.selectAll()
			.where('id', '=', id)
			.executeTakeFirstOrThrow();
	}

	/** A gateway mock plus a worker whose transports come from the real `createTransports`. */
	function smsSetup(
		options: { worker?: Partial<OutboxWorkerDeps>; transport?: TransportOptions } = {}
	) {
		const gateway = createSmsGateway();
		server.use(...gateway.handlers);
		const transports = createTransports(configFor(), options.transport);
		const recorder = recordingLog();
		const worker = createOutboxWorker({
			db: database.db,
			clock,
			keys,
			transports,
			log: recorder.log,
			random: () => 0,
			...options.worker
		});
		return { gateway, transports, worker, events: recorder.events };
	}

	it('R7: a message enqueued in a transaction that rolls back leaves nothing; a committed one waits, pending', async () => {
		const lost = smsMessage();
		await expect(
			database.db.transaction().execute(async (trx) => {
				await enqueueMessage({ ...ctx, db: trx }, lost);
				throw new Error('the code row failed to insert');
			})
		).rejects.toThrow('the code row failed');
		expect(await listOutboxFor(ctx, lost.recipient)).toEqual([]);

		const kept = smsMessage();
		const id = await database.db
			.transaction()
			.execute((trx) => enqueueMessage({ ...ctx, db: trx }, kept));
		expect(await row(id)).toMatchObject({
			status: 'pending',
			attempts: 0,
			next_attempt_at: clock.now().getTime(),
			created_at: clock.now().getTime(),
			locked_until: null,
			recipient: kept.recipient
		});
		expect(await messageText(database.db, id)).toBe(kept.body);
	});

	it('R7: an SMS is posted to the gateway as JSON with the bearer token and idempotency key, then marked sent', async () => {
		const { gateway, worker } = smsSetup();
		const message = smsMessage();
		const id = await enqueueMessage(ctx, message);

		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });

		expect(gateway.received).toEqual([
			{
				authorization: `Bearer ${SMS_GATEWAY_TOKEN}`,
				idempotencyKey: id,
				contentType: 'application/json',
				body: { to: message.recipient, text: message.body, reference: id }
			}
		]);
		expect(await row(id)).toMatchObject({
			status: 'sent',
			sent_at: clock.now().getTime(),
			locked_until: null,
			attempts: 0
		});
		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
		expect(gateway.received).toHaveLength(1);
	});

	it('R7: retries back off 5 s, 10 s, 20 s … and stop growing at 10 minutes', () => {
		expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs)).toEqual([
			5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000
		]);
	});

	it('R7: three gateway 500s lose nothing — retried on the backoff, never early, delivered once on the 4th attempt', async () => {
		const { gateway, worker } = smsSetup();
		gateway.failNext(3, 'server_error');
		const message = smsMessage();
		const id = await enqueueMessage(ctx, message);

		for (const [failures, delay] of [
			[1, 5_000],
			[2, 10_000],
			[3, 20_000]
		] as const) {
			expect(await worker.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
			const failed = await row(id);
			expect(failed).toMatchObject({
				status: 'pending',
				attempts: failures,
				locked_until: null,
				last_error: 'sms gateway: HTTP 500'
			});
			expect(failed.next_attempt_at).toBe(clock.now().getTime() + delay);

			clock.advance(delay - 1);
			expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
			expect(gateway.received).toHaveLength(failures);
			clock.advance(1);
		}

		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
		expect(gateway.received).toHaveLength(4);
		expect(gateway.delivered()).toHaveLength(1);
		expect(new Set(gateway.received.map((r) => r.idempotencyKey))).toEqual(new Set([id]));
		expect(await row(id)).toMatchObject({ status: 'sent', attempts: 3, last_error: null });

		clock.advance(60 * MINUTE);
		await worker.runOnce();
		expect(gateway.delivered()).toHaveLength(1);
	});

	it('R7: jitter only ever delays a retry, by at most a tenth', async () => {
		const { gateway, worker } = smsSetup({ worker: { random: () => 0.999 } });
		gateway.setBehaviour('server_error');
		const id = await enqueueMessage(ctx, smsMessage());
		await worker.runOnce();
		const next = (await row(id)).next_attempt_at - clock.now().getTime();
		expect(next).toBeGreaterThanOrEqual(5_000);
		expect(next).toBeLessThanOrEqual(5_500);
	});

	it('R7: a gateway that never answers, or cannot be reached, counts as a failed attempt', async () => {
		const { gateway, worker } = smsSetup({ transport: { smsTimeoutMs: 50 } });
		gateway.failNext(1, 'never_answers');
		gateway.failNext(1, 'network_error');
		const id = await enqueueMessage(ctx, smsMessage());

		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
		expect(await row(id)).toMatchObject({
			attempts: 1,
			last_error: 'sms gateway: no answer within 50 ms'
		});

		clock.advance(retryDelayMs(1));
		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
		expect(await row(id)).toMatchObject({ attempts: 2, last_error: 'sms gateway: unreachable' });

		clock.advance(retryDelayMs(2));
		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
	});

	it('R7: after maxAttempts failures a message is dead and never tried again', async () => {
		const { gateway, worker } = smsSetup({ worker: { maxAttempts: 3 } });
		gateway.setBehaviour('server_error');
		const id = await enqueueMessage(ctx, smsMessage());

		const results = [];
		for (let i = 0; i < 3; i += 1) {
			results.push(await worker.runOnce());
			clock.advance(10 * MINUTE);
		}
		expect(results.map((r) => (r.dead ? 'dead' : 'retried'))).toEqual([
			'retried',
			'retried',
			'dead'
		]);
		expect(await row(id)).toMatchObject({
			status: 'dead',
			attempts: 3,
			locked_until: null,
			sent_at: null
		});

		gateway.setBehaviour('ok');
		clock.advance(60 * MINUTE);
		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
		expect(gateway.received).toHaveLength(3);
	});

	it('R7: two workers running at the same time send each message exactly once', async () => {
		const { gateway, transports } = smsSetup();
		const ids = new Set<string>();
		for (let i = 0; i < 12; i += 1) ids.add(await enqueueMessage(ctx, smsMessage()));
		const workers = [1, 2].map(() =>
			createOutboxWorker({ db: database.db, clock, keys, transports, log: () => {} })
		);

		const results = await Promise.all(workers.map((w) => w.runOnce()));

		expect(results.reduce((sum, r) => sum + r.sent, 0)).toBe(12);
		const references = gateway.received.map((r) => r.body.reference);
		expect(references).toHaveLength(12);
		expect(new Set(references)).toEqual(ids);
		const statuses = await database.db.selectFrom('outbox').select('status').execute();
		expect(statuses.every((s) => s.status === 'sent')).toBe(true);
	});

	it('R7: a row claimed by a worker that crashed is picked up again once its claim runs out', async () => {
		const { gateway, worker } = smsSetup();
		const id = await enqueueMessage(ctx, smsMessage());
		const claimedUntil = clock.now().getTime() + MINUTE;
		await database.db
			.updateTable('outbox')
			.set({ locked_until: claimedUntil })
			.where('id', '=', id)
			.execute();

		clock.advance(MINUTE - 1);
		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
		clock.advance(1);
		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
		expect(gateway.received).toHaveLength(1);
	});

	describe('email over SMTP', () => {
		let smtp: SmtpServer;
		beforeAll(async () => {
			smtp = await startSmtpServer();
		});
		afterAll(() => smtp.close());

		function emailWorker() {
			const config = configFor({
				SMTP_URL: smtp.url,
				SMTP_FROM: 'Account Security Check <no-reply@shop.example>'
			});
			const transports = createTransports(config);
			return createOutboxWorker({
				db: database.db,
				clock,
				keys,
				transports,
				log: () => {},
				random: () => 0
			});
		}

		it('R7: an email is delivered over SMTP with its subject and plain-text body', async () => {
			const message = emailMessage();
			const id = await enqueueMessage(ctx, message);

			expect(await emailWorker().runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });

			const mail = smtp.messages.find((m) => m.to.includes(message.recipient));
			expect(mail).toBeDefined();
			expect(mail!.from).toBe('no-reply@shop.example');
			expect(mail!.headers.subject).toBe(message.subject);
			expect(mail!.headers['content-type']).toMatch(/^text\/plain/);
			expect(mail!.headers['message-id']).toContain(id);
			expect(mail!.body.trim()).toBe(message.body);
			expect(await row(id)).toMatchObject({ status: 'sent' });
		});

		it('R7: an SMTP server that refuses for now gets the email again after the backoff', async () => {
			smtp.failNext(1);
			const message = emailMessage();
			const id = await enqueueMessage(ctx, message);
			const worker = emailWorker();

			expect(await worker.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
			const failed = await row(id);
			expect(failed.last_error).toMatch(/^smtp: /);
			expect(failed.last_error).not.toContain(message.body);

			clock.advance(retryDelayMs(1));
			expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
			expect(smtp.messages.filter((m) => m.to.includes(message.recipient))).toHaveLength(1);
		});
	});

	it('R7: in development an unconfigured channel uses the dev outbox; the message stays readable there', async () => {
		const transports = createTransports(parseConfig({ NODE_ENV: 'development' }));
		expect(transports.devOutbox).toBe(true);
		const worker = createOutboxWorker({ db: database.db, clock, keys, transports, log: () => {} });
		const message = emailMessage();
		const id = await enqueueMessage(ctx, message);

		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });

		expect(await row(id)).toMatchObject({ status: 'sent' });
		const [shown] = await listOutboxFor(ctx, message.recipient);
		expect(shown).toMatchObject({
			to: message.recipient,
			subject: message.subject,
			text: message.body
		});
	});

	it('R6/R7: the text is sealed at rest and erased once delivered; a given-up message keeps none either', async () => {
		const { worker } = smsSetup();
		const message = smsMessage();
		const id = await enqueueMessage(ctx, message);
		const code = /\d{6}/.exec(message.body)![0];
		const stored = await row(id);
		expect(JSON.stringify(stored)).not.toContain(code);
		expect(stored.payload).toMatch(/^v1\./);
		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
		expect(await row(id)).toMatchObject({ status: 'sent', payload: null });

		const broken = await enqueueMessage(ctx, smsMessage());
		const otherRing = createOutboxWorker({
			db: database.db,
			clock,
			keys: testKeyring(9, 'other'),
			transports: createTransports(configFor()),
			log: () => {}
		});
		expect(await otherRing.runOnce()).toMatchObject({ dead: 1 });
		expect(await row(broken)).toMatchObject({
			status: 'dead',
			payload: null,
			last_error: 'payload unreadable (key ring)'
		});
	});

	it('R7: in production the dev outbox is impossible — an unconfigured channel has no transport', () => {
		const bare = createTransports(parseConfig({ NODE_ENV: 'production' }));
		expect(bare).toEqual({ email: null, sms: null, devOutbox: false });

		const smsOnly = createTransports(
			parseConfig({ NODE_ENV: 'production', SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN })
		);
		expect(smsOnly.email).toBeNull();
		expect(smsOnly.sms).not.toBeNull();
		expect(smsOnly.devOutbox).toBe(false);

		// Only an explicit APP_TEST_HOOKS=1 (banner on every page) lets a production build use it.
		const hooks = createTransports(parseConfig({ NODE_ENV: 'production', APP_TEST_HOOKS: '1' }));
		expect(hooks.devOutbox).toBe(true);
	});

	it('R7: with no transport for a channel the message waits — no attempt counted, one log line per run', async () => {
		const { gateway, transports } = smsSetup();
		const recorder = recordingLog();
		const worker = createOutboxWorker({
			db: database.db,
			clock,
			keys,
			transports: { email: null, sms: transports.sms },
			log: recorder.log
		});
		const waiting = await enqueueMessage(ctx, emailMessage());
		await enqueueMessage(ctx, emailMessage());
		await enqueueMessage(ctx, smsMessage());

		expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });

		expect(gateway.received).toHaveLength(1);
		expect(await row(waiting)).toMatchObject({
			status: 'pending',
			attempts: 0,
			locked_until: null,
			last_error: null
		});
		expect(recorder.events.filter((e) => e.event === 'outbox.channel_unconfigured')).toEqual([
			{ event: 'outbox.channel_unconfigured', data: { channel: 'email', waiting: 2 } }
		]);
	});

	it('R4, R7: the worker never logs or stores the body, the code or the whole recipient', async () => {
		const { gateway, worker, events } = smsSetup({ worker: { maxAttempts: 2 } });
		gateway.failNext(1, 'server_error');
		const delivered = smsMessage({ recipient: '+8613800138000' });
		const deliveredId = await enqueueMessage(ctx, delivered);
		await worker.runOnce();
		clock.advance(retryDelayMs(1));
		await worker.runOnce();

		gateway.setBehaviour('server_error');
		const abandoned = smsMessage();
		const abandonedId = await enqueueMessage(ctx, abandoned);
		await worker.runOnce();
		clock.advance(10 * MINUTE);
		await worker.runOnce();

		expect(events.map((e) => e.event)).toEqual([
			'outbox.retry',
			'outbox.sent',
			'outbox.retry',
			'outbox.dead'
		]);
		expect(events[1]!.data).toMatchObject({
			id: deliveredId,
			channel: 'sms',
			to: '+86 138****8000'
		});
		const logged = JSON.stringify(events);
		const stored = JSON.stringify(
			[await row(deliveredId), await row(abandonedId)].map((r) => r.last_error)
		);
		for (const message of [delivered, abandoned]) {
			const code = /\d{6}/.exec(message.body)![0];
			for (const secret of [message.body, code, message.recipient, message.recipient.slice(1)]) {
				expect(logged).not.toContain(secret);
				expect(stored).not.toContain(secret);
			}
		}
	});

	it('R7: start() delivers on an interval without overlapping runs, and stop() waits for the run in flight', async () => {
		const sends: string[] = [];
		let release: () => void = () => {};
		const slow: Transport = {
			send: (message) =>
				new Promise<void>((resolve) => {
					sends.push(message.id);
					release = resolve;
				})
		};
		const worker = createOutboxWorker({
			db: database.db,
			clock,
			keys,
			transports: { email: null, sms: slow },
			log: () => {}
		});
		const id = await enqueueMessage(ctx, smsMessage());

		vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
		try {
			worker.start(1_000);
			await expect.poll(() => sends.length).toBe(1);
			// Five intervals pass while the send hangs; none of them starts a second run.
			vi.advanceTimersByTime(5_000);
			expect(sends).toEqual([id]);
		} finally {
			vi.useRealTimers();
		}

		const stopped = worker.stop();
		release();
		await stopped;
		expect(await row(id)).toMatchObject({ status: 'sent' });
	});

	it('R7: /dev/outbox answers 404 in production without test hooks, and lists the newest messages otherwise', async () => {
		const event = (env: Record<string, string>) =>
			({
				locals: { app: { ...testAppContext(database, { env }), clock } },
				setHeaders: () => {}
			}) as unknown as Parameters<typeof devOutboxLoad>[0];
		await expect(devOutboxLoad(event({ NODE_ENV: 'production' }))).rejects.toMatchObject({
			status: 404
		});

		const older = await enqueueMessage(ctx, emailMessage());
		clock.advance(1_000);
		const newer = await enqueueMessage(ctx, smsMessage());
		const allowed: Record<string, string>[] = [
			{ NODE_ENV: 'development' },
			{ NODE_ENV: 'production', APP_TEST_HOOKS: '1' }
		];
		for (const env of allowed) {
			const data = (await devOutboxLoad(event(env))) as {
				messages: { id: string; status: string }[];
			};
			expect(data.messages.map((m) => m.id)).toEqual([newer, older]);
			expect(data.messages[0]).toMatchObject({ status: 'pending' });
		}
	});
});
