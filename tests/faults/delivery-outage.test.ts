import { setupServer } from 'msw/node';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/lib/server/core/clock';
import { parseConfig } from '../../src/lib/server/core/config';
import { createTransports } from '../../src/lib/server/messaging/transports';
import { createOutboxWorker } from '../../src/lib/server/messaging/worker';
import { enqueueMessage } from '../../src/lib/server/messaging/outbox';
import { testKeyring } from '../../src/lib/server/core/keys';
import { createSmsGateway, SMS_GATEWAY_TOKEN, SMS_GATEWAY_URL } from '../mocks/sms-gateway';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';
import { startSmtpServer, type SmtpServer } from '../support/smtp-server';

/**
 * Fault, R7: SMTP and the SMS gateway are both down for a while — SMTP refusing
 * connections outright (not a polite 451, which delivery.test.ts covers), the gateway
 * unreachable — while codes keep being enqueued; then both come back. Every message arrives
 * exactly once and none is given up.
 */

const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());

/** A TCP front for the SMTP server on a fixed port that can be switched off (connections refused). */
async function switchableSmtp(target: SmtpServer) {
	const targetPort = Number(new URL(target.url).port);
	const sockets = new Set<Socket>();
	let server: Server | null = null;
	let port = 0;
	const up = () =>
		new Promise<void>((resolve) => {
			server = createServer((client) => {
				const upstream = connect(targetPort, '127.0.0.1');
				sockets.add(client).add(upstream);
				client.pipe(upstream).pipe(client);
				const drop = () => (client.destroy(), upstream.destroy());
				client.on('error', drop).on('close', drop);
				upstream.on('error', drop).on('close', drop);
			});
			server.listen(port, '127.0.0.1', () => {
				port = (server!.address() as AddressInfo).port;
				resolve();
			});
		});
	const down = () =>
		new Promise<void>((resolve) => {
			for (const s of sockets) s.destroy();
			sockets.clear();
			if (!server) return resolve();
			server.close(() => resolve());
			server = null;
		});
	await up();
	return { url: () => `smtp://127.0.0.1:${port}`, up, down };
}

describe.each(testDatabases)('R7 delivery through an outage on $name', ({ open }) => {
	let database: TestDatabase;
	let smtp: SmtpServer;
	beforeAll(async () => {
		database = await open();
		smtp = await startSmtpServer();
	});
	afterAll(async () => {
		await smtp.close();
		await database.dispose();
	});

	/**
	 * Both channels down for `minutes` (SMTP port closed, gateway unreachable) while 3 more emails
	 * and 3 more SMS are enqueued every 4 minutes; then both come back.
	 */
	async function outage(minutes: number, maxAttempts?: number) {
		const front = await switchableSmtp(smtp);
		const gateway = createSmsGateway();
		msw.use(...gateway.handlers);
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const ctx = { ...testAppContext(database), clock };
		const config = parseConfig({
			NODE_ENV: 'test',
			SMS_GATEWAY_URL,
			SMS_GATEWAY_TOKEN,
			SMTP_URL: front.url(),
			SMTP_FROM: 'Account Security Check <no-reply@shop.example>'
		});
		const worker = createOutboxWorker({
			db: database.db,
			clock,
			keys: testKeyring(),
			transports: createTransports(config, { smsTimeoutMs: 200 }),
			log: () => {},
			batchSize: 100,
			...(maxAttempts ? { maxAttempts } : {})
		});
		const emails: string[] = [];
		const phones: string[] = [];
		const enqueue = async (n: number) => {
			for (let i = 0; i < n; i += 1) {
				const email = uniqueEmail('outage');
				const phone = uniqueCnMobile();
				emails.push(email);
				phones.push(phone);
				await enqueueMessage(ctx, {
					channel: 'email',
					recipient: email,
					purpose: 'register',
					locale: 'en',
					subject: 'Your code',
					body: `code for ${email}`
				});
				await enqueueMessage(ctx, {
					channel: 'sms',
					recipient: phone,
					purpose: 'register',
					locale: 'en',
					subject: null,
					body: `code for ${phone}`
				});
			}
		};

		await enqueue(5);
		await front.down();
		gateway.setBehaviour('network_error');
		let failedRuns = 0;
		for (let minute = 0; minute < minutes; minute += 1) {
			if (minute % 4 === 0) await enqueue(3);
			const result = await worker.runOnce();
			expect(result.sent).toBe(0);
			expect(result.dead).toBe(0);
			if (result.retried > 0) failedRuns += 1;
			clock.advance(60_000);
		}
		expect(failedRuns).toBeGreaterThan(3);
		expect(smtp.messages.filter((m) => emails.includes(m.to[0]!))).toHaveLength(0);

		await front.up();
		gateway.setBehaviour('ok');
		// Back: run until the queue is empty, moving the clock past each backoff (≤ 10 min).
		const deadline = 60;
		for (let run = 0; run < deadline; run += 1) {
			await worker.runOnce();
			const pending = await database.db
				.selectFrom('outbox')
				.select('id')
				.where('status', '!=', 'sent')
				.execute();
			if (pending.length === 0) break;
			clock.advance(60_000);
		}
		const rows = await database.db
			.selectFrom('outbox')
			.select(['recipient', 'status', 'attempts'])
			.execute();
		const ours = rows.filter((r) => emails.includes(r.recipient) || phones.includes(r.recipient));
		expect(ours).toHaveLength(2 * emails.length);
		expect(ours.every((r) => r.status === 'sent')).toBe(true);
		expect(ours.some((r) => r.attempts > 1)).toBe(true);
		for (const email of emails)
			expect(
				smtp.messages.filter((m) => m.to.includes(email)),
				email
			).toHaveLength(1);
		const texts = gateway.delivered().map((r) => r.body.to);
		for (const phone of phones)
			expect(
				texts.filter((to) => to === phone),
				phone
			).toHaveLength(1);
		// A few more runs later nothing goes out twice.
		clock.advance(3_600_000);
		expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
		await front.down();
		return ours.length;
	}

	it('R7: messages enqueued before and during an 8-minute outage of both channels are each delivered once after it', async () => {
		expect(await outage(8)).toBe(2 * (5 + 2 * 3));
	});

	// The default budget (8 attempts: 5 s … 320 s apart) is spent after ~11 minutes, after which a
	// message is dead: a longer outage needs a larger budget (see docs/SECURITY.md, "Not met").
	it('R7: with a 30-attempt budget, a 2-hour outage of both channels still loses nothing and sends nothing twice', async () => {
		expect(await outage(120, 30)).toBe(2 * (5 + 30 * 3));
	});
});
