import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
	MAX_MULTIPART_BYTES,
	readMultipart,
	UPLOAD_IDLE_MS
} from '../../src/lib/server/http/multipart';
import { actions as statusActions } from '../../src/routes/appeal/status/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';

/** A multipart body that sends a little and then nothing, counting how often it was read. */
function stalledBody(counter = { pulls: 0 }) {
	let release = () => {};
	const body = new ReadableStream<Uint8Array>(
		{
			start: (controller) => {
				release = () => controller.close();
			},
			pull: () => {
				counter.pulls += 1;
				return new Promise(() => {});
			}
		},
		{ highWaterMark: 0 }
	);
	return { body, release: () => release(), counter };
}
const request = (body: ReadableStream<Uint8Array>) =>
	new Request('http://127.0.0.1/appeal', {
		method: 'POST',
		headers: { 'content-type': 'multipart/form-data; boundary=x' },
		body,
		duplex: 'half'
	} as RequestInit);
const anyForm = z.object({}).passthrough();

describe('R19: the upload read budget cannot be held by one client', () => {
	// Each test gets a context of its own, so a fresh upload budget (ctx.uploads).
	let database: TestDatabase;
	beforeAll(async () => {
		database = await testDatabases[0]!.open();
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});
	afterEach(() => vi.useRealTimers());

	it('one network holds at most two uploads’ share; another network still gets its bodies read', async () => {
		const ctx = testAppContext(database);
		const held = [stalledBody(), stalledBody()];
		const pending = held.map((h) =>
			readMultipart(ctx, request(h.body), anyForm, 'documents', { network: 'net-a' })
		);
		const third = stalledBody();
		const refused = await readMultipart(ctx, request(third.body), anyForm, 'documents', {
			network: 'net-a'
		});
		expect(refused).toMatchObject({ ok: false, status: 503, code: 'busy' });
		expect(third.counter.pulls).toBe(0);
		const other = new Request('http://127.0.0.1/appeal', {
			method: 'POST',
			headers: { 'content-type': 'multipart/form-data; boundary=x' },
			body: '--x--\r\n'
		});
		expect(
			await readMultipart(ctx, other, anyForm, 'documents', { network: 'net-b' })
		).not.toMatchObject({ code: 'busy' });
		for (const h of held) h.release();
		await Promise.all(pending);
		expect(MAX_MULTIPART_BYTES).toBeGreaterThan(15 * 1024 * 1024);
	});

	it(`a body that sends nothing for ${UPLOAD_IDLE_MS / 1000} s is cut off and its share freed`, async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const ctx = testAppContext(database);
		const stalled = stalledBody();
		const reading = readMultipart(ctx, request(stalled.body), anyForm, 'documents', {
			network: 'net-c'
		});
		await vi.advanceTimersByTimeAsync(UPLOAD_IDLE_MS + 10);
		expect(await reading).toMatchObject({ ok: false, status: 413 });
		vi.useRealTimers();
		const [a, b] = [stalledBody(), stalledBody()];
		const again = [a, b].map((h) =>
			readMultipart(ctx, request(h.body), anyForm, 'documents', { network: 'net-c' })
		);
		const third = await readMultipart(ctx, request(stalledBody().body), anyForm, 'documents', {
			network: 'net-c'
		});
		expect(third).toMatchObject({ code: 'busy' });
		a.release();
		b.release();
		await Promise.all(again);
	});
});

describe.each(testDatabases)(
	'R19: an appeal answer is authorised before its body is read on $name',
	({ open }) => {
		let database: TestDatabase;
		let app: ReturnType<typeof testAppContext>;
		beforeAll(async () => {
			database = await open();
			app = testAppContext(database);
		});
		afterAll(() => database.dispose());

		it('a forged appeal_access cookie gets 404 and not one byte of its upload is read', async () => {
			const stalled = stalledBody();
			const jar = new Map([['appeal_access', `AP-0000-0000.${'x'.repeat(43)}`]]);
			const answer = statusActions.answer!;
			const answered = (await callEndpoint(
				(event: Parameters<typeof answer>[0]) =>
					answer({ ...event, request: request(stalled.body) }) as unknown as Response,
				app,
				{ jar, path: '/appeal/status?/answer' }
			)) as unknown as { status: number; data: { error: { code: string } } };
			expect([answered.status, answered.data.error.code]).toEqual([404, 'appeal_not_found']);
			expect(stalled.counter.pulls).toBe(0);
		});
	}
);
