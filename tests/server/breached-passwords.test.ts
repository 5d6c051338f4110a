import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { POST as changePassword } from '../../src/routes/api/v1/account/password/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as register } from '../../src/routes/api/v1/registrations/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { lookUpBreachedPassword } from '../../src/lib/server/accounts/breached-passwords';
import { startRangeServer, type RangeServer } from '../support/range-server';

const PASSWORD = 'a long and quiet river';
/** Not on the local common-password list (R5), so only the range API can refuse it. */
const BREACHED = 'purple elephants dance at noon';
/** Listed with a count of 0: a padding decoy, not a breach. */
const DECOY = 'seven lanterns over the harbour';
const CLEAN = 'quiet orchards under winter stars';

describe.each(testDatabases)('R5 breached-password screening on $name', ({ open }) => {
	let database: TestDatabase;
	let range: RangeServer;
	let app: ReturnType<typeof testAppContext>;
	let passwordHash: string;
	beforeAll(async () => {
		database = await open();
		range = await startRangeServer({ [BREACHED]: 41_337 }, [DECOY]);
		app = testAppContext(database, {
			env: { PWNED_PASSWORDS_URL: range.url, PWNED_PASSWORDS_TIMEOUT_MS: '200' }
		});
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(async () => {
		await range.close();
		await database.dispose();
	});
	beforeEach(() => {
		range.mode = 'ok';
		range.redirectTo = '';
		range.requests.length = 0;
	});

	const startRegistration = (password: string, headers: Record<string, string> = {}) => {
		const email = uniqueEmail('breach');
		return callEndpoint(register, app, {
			json: { identifier: email, password, country: 'CN' },
			headers,
			clientAddress: '1.0.1.1'
		}).then((res) => ({ res, email }));
	};
	const count = async (outcome: string) =>
		(await app.metrics.breachedPasswordChecks.get()).values.find(
			(v) => v.labels.outcome === outcome
		)?.value ?? 0;
	const stored = (email: string) =>
		database.db
			.selectFrom('verification_codes')
			.select('id')
			.where('identifier', '=', email)
			.execute();

	it('registration refuses a breached password with password_breached on the field; nothing is stored', async () => {
		const { res, email } = await startRegistration(BREACHED);
		expect(res.status).toBe(400);
		const body = await res.json();
		expect(body.error.code).toBe('password_breached');
		expect(Object.keys(body.error.fields)).toEqual(['password']);
		expect(await stored(email)).toEqual([]);
		// k-anonymity: only the first 5 characters of the SHA-1 left, upper case, with padding asked.
		const sha1 = createHash('sha1').update(BREACHED).digest('hex').toUpperCase();
		expect(range.requests).toHaveLength(1);
		expect(range.requests[0]!.path).toBe(`/range/${sha1.slice(0, 5)}`);
		expect(range.requests[0]!.headers['add-padding']).toBe('true');
	});

	it('the refusal is translated', async () => {
		const { res } = await startRegistration(BREACHED, { 'accept-language': 'zh-CN' });
		expect((await res.json()).error.message).toBe(
			'该密码曾出现在数据泄露中，攻击者可能会尝试它。请换一个。'
		);
	});

	it('a clean password and a padding decoy (count 0) are accepted', async () => {
		const before = await count('clean');
		for (const password of [CLEAN, DECOY]) {
			const { res, email } = await startRegistration(password);
			expect(res.status).toBe(202);
			expect(await stored(email)).toHaveLength(1);
		}
		expect(await count('clean')).toBe(before + 2);
	});

	it('password reset refuses a breached new password, and the code stays usable', async () => {
		const email = (
			await insertAccount(database.db, { email: uniqueEmail('r'), password_hash: passwordHash })
		).email!;
		expect((await callEndpoint(requestReset, app, { json: { identifier: email } })).status).toBe(
			202
		);
		const code = await latestCode(database.db, email);
		const refused = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: BREACHED }
		});
		expect(refused.status).toBe(400);
		const body = await refused.json();
		expect([body.error.code, Object.keys(body.error.fields)]).toEqual([
			'password_breached',
			['newPassword']
		]);
		const ok = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: CLEAN }
		});
		expect(ok.status).toBe(204);
	});

	it('password change refuses a breached new password and keeps the old one', async () => {
		const email = (
			await insertAccount(database.db, { email: uniqueEmail('c'), password_hash: passwordHash })
		).email!;
		const jar: CookieJar = new Map();
		await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD }, jar });
		const refused = await callEndpoint(changePassword, app, {
			json: { currentPassword: PASSWORD, newPassword: BREACHED },
			jar
		});
		expect(refused.status).toBe(400);
		expect((await refused.json()).error).toMatchObject({
			code: 'password_breached',
			fields: { newPassword: expect.any(String) }
		});
		const again = await callEndpoint(signIn, app, {
			json: { identifier: email, password: PASSWORD }
		});
		expect(again.status).toBe(201);
	});

	it.each(['down', 'garbage', 'hang'] as const)(
		'fails open when the service is %s: the password is accepted, the failure counted',
		async (mode) => {
			range.mode = mode;
			const before = await count('unavailable');
			const started = performance.now();
			const { res } = await startRegistration(BREACHED);
			expect(res.status).toBe(202);
			expect(await count('unavailable')).toBe(before + 1);
			// The hanging service is given up after PWNED_PASSWORDS_TIMEOUT_MS (200 ms here).
			if (mode === 'hang') expect(performance.now() - started).toBeLessThan(5_000);
			const scrape = await app.metrics.registry.metrics();
			expect(scrape).toContain(
				`asc_breached_password_checks_total{outcome="unavailable"} ${before + 1}`
			);
		}
	);

	it('fails open when nothing listens at the address', async () => {
		const closed = await startRangeServer({});
		await closed.close();
		const offline = testAppContext(database, { env: { PWNED_PASSWORDS_URL: closed.url } });
		const res = await callEndpoint(register, offline, {
			json: { identifier: uniqueEmail('off'), password: BREACHED, country: 'CN' }
		});
		expect(res.status).toBe(202);
		expect(
			(await offline.metrics.breachedPasswordChecks.get()).values.find(
				(v) => v.labels.outcome === 'unavailable'
			)?.value
		).toBe(1);
	});

	it('a redirect is not followed: a 302 to another server is treated as unavailable and that server gets no request', async () => {
		const elsewhere = await startRangeServer({ [BREACHED]: 7 });
		try {
			range.mode = 'redirect';
			range.redirectTo = elsewhere.url;
			const before = await count('unavailable');
			const { res } = await startRegistration(BREACHED);
			expect(res.status).toBe(202);
			expect(elsewhere.requests).toEqual([]);
			expect(await count('unavailable')).toBe(before + 1);
		} finally {
			await elsewhere.close();
		}
	});

	it('an answer over 1 MiB is cut and treated as unavailable, even when its last line is a breach', async () => {
		range.mode = 'huge';
		const patient = testAppContext(database, {
			env: { PWNED_PASSWORDS_URL: range.url, PWNED_PASSWORDS_TIMEOUT_MS: '10000' }
		});
		const res = await callEndpoint(register, patient, {
			json: { identifier: uniqueEmail('huge'), password: BREACHED, country: 'CN' }
		});
		expect(res.status).toBe(202);
		expect(
			(await patient.metrics.breachedPasswordChecks.get()).values.find(
				(v) => v.labels.outcome === 'unavailable'
			)?.value
		).toBe(1);
	});

	it('an endless answer is cut at 1 MiB, long before the time limit, and treated as unavailable', async () => {
		range.mode = 'endless';
		const patient = testAppContext(database, {
			env: { PWNED_PASSWORDS_URL: range.url, PWNED_PASSWORDS_TIMEOUT_MS: '6000' }
		});
		const started = performance.now();
		expect(await lookUpBreachedPassword(patient, CLEAN)).toBe('unavailable');
		// 1 MiB arrives in about 160 ms (64 KiB every 10 ms); the time limit would take 6 s.
		expect(performance.now() - started).toBeLessThan(3_000);
	});

	it('is off without PWNED_PASSWORDS_URL: no request leaves', async () => {
		const off = testAppContext(database);
		const res = await callEndpoint(register, off, {
			json: { identifier: uniqueEmail('nourl'), password: BREACHED, country: 'CN' }
		});
		expect(res.status).toBe(202);
		expect(range.requests).toEqual([]);
	});
});
