import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../src/lib/server/core/clock';
import { POST as clockPost } from '../../src/routes/api/test/clock/+server';
import { GET as outboxGet } from '../../src/routes/api/test/outbox/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { sealContent } from '../../src/lib/server/messaging/outbox';

const sqlite = testDatabases[0]!;

describe('test hooks (docs/api.md)', () => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await sqlite.open();
	});
	afterAll(() => database.dispose());

	it('do not exist without APP_TEST_HOOKS=1', async () => {
		const app = testAppContext(database);
		await expect(callEndpoint(clockPost, app, { json: { advanceMs: 1000 } })).rejects.toMatchObject(
			{ status: 404 }
		);
		await expect(
			callEndpoint(outboxGet, app, { method: 'GET', path: '/api/test/outbox?to=a@b.com' })
		).rejects.toMatchObject({ status: 404 });
	});

	it('move the server clock by advanceMs or to an instant', async () => {
		const testClock = new AdjustableClock({ now: () => new Date('2026-11-26T00:00:00Z') });
		const app = {
			...testAppContext(database, { env: { APP_TEST_HOOKS: '1' } }),
			clock: testClock,
			testClock
		};
		const advanced = await callEndpoint(clockPost, app, { json: { advanceMs: 299_000 } });
		expect(await advanced.json()).toEqual({ now: '2026-11-26T00:04:59.000Z' });
		expect(testClock.now().toISOString()).toBe('2026-11-26T00:04:59.000Z');
		const set = await callEndpoint(clockPost, app, { json: { now: '2027-01-01T00:00:00Z' } });
		expect(await set.json()).toEqual({ now: '2027-01-01T00:00:00.000Z' });
		const bad = await callEndpoint(clockPost, app, { json: { advanceMs: -5 } });
		expect(bad.status).toBe(400);
	});

	it('list messages to an identifier, newest first, with the code picked out', async () => {
		const testClock = new AdjustableClock();
		const app = {
			...testAppContext(database, { env: { APP_TEST_HOOKS: '1' } }),
			clock: testClock,
			testClock
		};
		for (const [id, at, code] of [
			['m1', 1_000, '111111'],
			['m2', 2_000, '222222']
		] as const) {
			await database.db
				.insertInto('outbox')
				.values({
					id,
					channel: 'email',
					recipient: 'dev@example.com',
					purpose: 'register',
					locale: 'en',
					payload: sealContent(app.keys, id, {
						subject: 'Your code',
						body: `Your code is ${code}.`
					}),
					status: 'pending',
					next_attempt_at: at,
					locked_until: null,
					last_error: null,
					created_at: at,
					sent_at: null
				})
				.execute();
		}
		const res = await callEndpoint(outboxGet, app, {
			method: 'GET',
			path: '/api/test/outbox?to=DEV@Example.com'
		});
		const { messages } = await res.json();
		expect(messages.map((m: { code: string }) => m.code)).toEqual(['222222', '111111']);
		expect(messages[0]).toMatchObject({
			to: 'dev@example.com',
			channel: 'email',
			purpose: 'register',
			subject: 'Your code',
			createdAt: '1970-01-01T00:00:02.000Z'
		});
	});
});
