import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as startRegistration } from '../../src/routes/api/v1/registrations/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as requestVerification } from '../../src/routes/api/v1/verifications/+server';
import { POST as startChange } from '../../src/routes/api/v1/account/contact-changes/+server';
import { openDatabase } from '../../src/lib/server/db/database';
import { smsBudgetSpent } from '../../src/lib/server/messaging';
import {
	openRedisRateLimitStore,
	REDIS_KEY_PREFIX
} from '../../src/lib/server/platform/limits-redis';
import { testAppContext, type TestApp } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { testRedisUrl } from '../support/redis';
import { load as consoleLayout } from '../../src/routes/support/+layout.server';

/** What the support console's layout shows an agent (the SMS banner among it), on `app`. */
async function consoleBanner(app: TestApp): Promise<unknown> {
	const event = { locals: { app, agent: { username: 'agent', role: 'agent' } }, setHeaders() {} };
	const data = await consoleLayout(event as unknown as Parameters<typeof consoleLayout>[0]);
	return (data as { smsBudgetSpent: boolean }).smsBudgetSpent;
}

/** R29: SMS to China and the UK only, and 3 SMS a day, so each rule is reached in a few sends. */
const ENV = { SMS_ALLOWED_COUNTRIES: 'CN, gb', SMS_DAILY_BUDGET: '3' };
const NEW_PASSWORD = 'a fresh and rather long passphrase';
/** A valid United States number: a country not in ENV's list. */
const US_NUMBER = '+12015550123';
/** A valid UK premium-rate number (libphonenumber's PREMIUM_RATE), in an allowed country. */
const PREMIUM_NUMBER = '+449098765432';

// China Mobile numbers, each block (all but the last 4 digits) its own unless asked otherwise.
const base = 1000 + Math.floor(Math.random() * 8000);
let blocks = 0;
function cnBlock(): string {
	blocks += 1;
	return `+86139${String((base + blocks) % 10_000).padStart(4, '0')}`;
}
const cnNumber = (block = cnBlock(), last = Math.floor(Math.random() * 10_000)) =>
	`${block}${String(last).padStart(4, '0')}`;

/** A context of its own on `day` (its own UTC day, so its own SMS budget), over `database`. */
const onDay = (database: TestDatabase, day: string) =>
	testAppContext(database, { env: ENV, now: `${day}T12:00:00Z` });

async function reset(app: TestApp, identifier: string, clientAddress?: string) {
	const res = await callEndpoint(requestReset, app, { json: { identifier }, clientAddress });
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const errorCode = (body: Record<string, unknown>) => (body.error as { code?: string }).code;

describe.each(testDatabases)('R29 SMS budget on $name', ({ name, open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	const smsTo = (recipient: string) =>
		database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', recipient)
			.execute()
			.then((rows) => rows.length);

	it('R29: a disallowed country is refused with sms_country_not_supported on every code-sending endpoint', async () => {
		const app = onDay(database, '2026-12-01');
		const registration = await callEndpoint(startRegistration, app, {
			json: { identifier: US_NUMBER, password: PASSWORD, country: 'US' }
		});
		expect(registration.status).toBe(400);
		expect(errorCode(await registration.json())).toBe('sms_country_not_supported');
		const verification = await callEndpoint(requestVerification, app, {
			json: { identifier: US_NUMBER, purpose: 'check' }
		});
		expect(verification.status).toBe(400);
		expect(errorCode(await verification.json())).toBe('sms_country_not_supported');
		const appeal = await callEndpoint(requestVerification, app, {
			json: { identifier: US_NUMBER, purpose: 'appeal' }
		});
		expect(appeal.status).toBe(400);
		expect(errorCode(await appeal.json())).toBe('sms_country_not_supported');
		const member = await signedInMember(app, 'sms-change');
		const change = await callEndpoint(startChange, app, {
			json: { currentPassword: PASSWORD, newIdentifier: US_NUMBER },
			jar: member.jar
		});
		expect(change.status).toBe(400);
		const changeBody = (await change.json()) as Record<string, unknown>;
		expect(errorCode(changeBody)).toBe('sms_country_not_supported');
		expect(changeBody.error).toMatchObject({ fields: { newIdentifier: expect.any(String) } });
		expect(await smsTo(US_NUMBER)).toBe(0);
	});

	it('R29/R18: a registered and an unregistered number in a disallowed country get the same answer', async () => {
		const app = onDay(database, '2026-12-02');
		const registered = '+12015550124';
		await insertAccount(database.db, { phone: registered, country: 'US' });
		const known = await reset(app, registered);
		const unknown = await reset(app, '+12015550125');
		expect(known.status).toBe(400);
		expect(errorCode(known.body)).toBe('sms_country_not_supported');
		expect(unknown).toEqual(known);
		expect(await smsTo(registered)).toBe(0);
	});

	it('R29: a premium-rate number is refused the same way, even in an allowed country', async () => {
		const app = onDay(database, '2026-12-03');
		await insertAccount(database.db, { phone: PREMIUM_NUMBER, country: 'GB' });
		const known = await reset(app, PREMIUM_NUMBER);
		expect(known.status).toBe(400);
		expect(errorCode(known.body)).toBe('sms_country_not_supported');
		const registration = await callEndpoint(startRegistration, app, {
			json: { identifier: '+448431234567', password: PASSWORD, country: 'GB' }
		});
		expect(registration.status).toBe(400);
		expect(errorCode(await registration.json())).toBe('sms_country_not_supported');
		// An ordinary UK mobile number in the same country goes.
		expect((await reset(app, '+447400123456')).status).toBe(202);
	});

	it('R29: at most 5 sends an hour to numbers that differ only in their last 4 digits', async () => {
		const app = onDay(database, '2026-12-04');
		const block = cnBlock();
		// One registered number among them: registered or not, every send counts alike (R18).
		const registered = cnNumber(block, 1);
		await insertAccount(database.db, { phone: registered, country: 'CN' });
		const numbers = [registered, ...[2, 3, 4, 5, 6].map((last) => cnNumber(block, last))];
		const answers = [];
		for (const [i, number] of numbers.entries())
			answers.push(await reset(app, number, `203.0.113.${10 + i}`));
		expect(answers.slice(0, 5).map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
		expect(answers[5]!.status).toBe(429);
		expect(errorCode(answers[5]!.body)).toBe('rate_limited');
		// Another block is not held up; an hour later the block takes sends again.
		expect((await reset(app, cnNumber(), '203.0.113.20')).status).toBe(202);
		app.clock.advance(3_600_000);
		expect((await reset(app, cnNumber(block, 7), '203.0.113.21')).status).toBe(202);
	});

	it('R29: SMS_DAILY_BUDGET SMS a UTC day, then 503 sms_unavailable offering email; email codes go on', async () => {
		const app = onDay(database, '2026-12-05');
		const phones = [cnNumber(), cnNumber(), cnNumber(), cnNumber()];
		for (const phone of phones) await insertAccount(database.db, { phone, country: 'CN' });
		for (const phone of phones.slice(0, 2)) expect((await reset(app, phone)).status).toBe(202);
		expect(await consoleBanner(app)).toBe(false);
		expect((await reset(app, phones[2]!)).status).toBe(202);
		expect(await smsBudgetSpent(app)).toBe(true);
		// The support console's banner: codes go by email for the rest of the UTC day.
		expect(await consoleBanner(app)).toBe(true);
		const refused = await reset(app, phones[3]!);
		expect(refused.status).toBe(503);
		expect(refused.body.error).toMatchObject({ code: 'sms_unavailable', alternative: 'email' });
		// R18: an unregistered number gets the same answer once the budget is spent.
		expect(await reset(app, cnNumber())).toEqual(refused);
		expect(await smsTo(phones[3]!)).toBe(0);
		// Email is unaffected.
		const email = uniqueEmail('sms-budget');
		const byEmail = await callEndpoint(startRegistration, app, {
			json: { identifier: email, password: NEW_PASSWORD, country: 'CN' }
		});
		expect(byEmail.status).toBe(202);
		expect(await smsTo(email)).toBe(1);
		// The next UTC day has a new budget.
		app.clock.set(new Date('2026-12-06T00:00:01Z'));
		expect(await smsBudgetSpent(app)).toBe(false);
		expect((await reset(app, phones[3]!)).status).toBe(202);
		expect(await smsTo(phones[3]!)).toBe(1);
	});

	it(`R29: the budget is exact across two instances on one ${name} database`, async () => {
		// Two connection pools to one PostgreSQL database share its rate_limits table; SQLite has
		// one instance per file (each context here counts in the process), so both use one context.
		const handle = name === 'postgres' ? openDatabase(database.target) : null;
		const first = onDay(database, '2026-12-07');
		const second = handle
			? testAppContext(
					{ ...handle, target: database.target, dispose: () => handle.close() },
					{ env: ENV, now: '2026-12-07T12:00:00Z' }
				)
			: first;
		try {
			const phones = Array.from({ length: 8 }, () => cnNumber());
			for (const phone of phones) await insertAccount(database.db, { phone, country: 'CN' });
			const answers = await Promise.all(
				phones.map((phone, i) => reset(i % 2 ? second : first, phone, `198.51.100.${i + 1}`))
			);
			expect(answers.filter((answer) => answer.status === 202)).toHaveLength(3);
			expect(answers.filter((answer) => answer.status === 503)).toHaveLength(5);
			const sent = await Promise.all(phones.map(smsTo));
			expect(sent.reduce((sum, count) => sum + count, 0)).toBe(3);
		} finally {
			await handle?.close();
		}
	});

	it('R29: the budget is exact across two instances sharing one Redis', async () => {
		const prefix = `${REDIS_KEY_PREFIX}test:${randomUUID()}:`;
		const stores = await Promise.all([
			openRedisRateLimitStore(testRedisUrl(), { prefix }),
			openRedisRateLimitStore(testRedisUrl(), { prefix })
		]);
		const [first, second] = stores.map((limits) => ({ ...onDay(database, '2026-12-08'), limits }));
		try {
			const phones = Array.from({ length: 8 }, () => cnNumber());
			for (const phone of phones) await insertAccount(database.db, { phone, country: 'CN' });
			const answers = await Promise.all(
				phones.map((phone, i) => reset(i % 2 ? second! : first!, phone, `198.51.100.${i + 1}`))
			);
			expect(answers.filter((answer) => answer.status === 202)).toHaveLength(3);
			expect(answers.filter((answer) => answer.status === 503)).toHaveLength(5);
			const sent = await Promise.all(phones.map(smsTo));
			expect(sent.reduce((sum, count) => sum + count, 0)).toBe(3);
			expect(await smsBudgetSpent(second!)).toBe(true);
		} finally {
			await Promise.all(stores.map((store) => store.close()));
		}
	});
});
