import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAgent } from '../../src/lib/server/support/agents';
import type { Failure } from '../../src/lib/server/core/failures';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import { delayAfter, signIn, signInRules } from '../../src/lib/server/accounts/sign-in';
import { codeGuessRules } from '../../src/lib/server/two-step/totp';
import { POST as signInEndpoint } from '../../src/routes/api/v1/sessions/+server';
import { AGENT_PASSWORD, makeAgent } from '../support/agents';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

/**
 * Security issue, lockouts: the failure counters were read before the argon2/TOTP work and
 * written after it, so 100 guesses sent at once were all evaluated against a lock of 5 (an
 * agent's TOTP with the right password) or 20 (a buyer address). Now every attempt is counted
 * before the work and refunded on success. "Evaluated" = an attempt that got as far as the
 * password check, which each writes one audit row for (failed or signed in); a refused attempt
 * writes none. Per-address counters count networks (IPv4 address, IPv6 /64), not text.
 */

const PASSWORD = 'correct horse battery staple';
const AT_ONCE = 100;
// Growing delays per identifier from the 5th failure, per address from the 20th (sign-in.ts);
// agents lock after 5 failures per username and 20 per address (agents.ts).
const IDENTIFIER_LOCK = 5;
const ADDRESS_LOCK = 20;
// An IPv6 /48 has 4 × the /64's 19 free failures: its delay starts at the 77th.
const WIDE_NETWORK_LOCK = 77;

let addresses = 0;
/** A fresh private IPv4 address per call (no IP country; per-address counters stay apart). */
function freshAddress(): string {
	addresses += 1;
	return `10.${120 + Math.floor(addresses / 62_500)}.${Math.floor(addresses / 250) % 250}.${(addresses % 250) + 1}`;
}

const buyerMeta = (ip: string): RequestMeta => ({
	ip,
	ipCountry: null,
	deviceId: 'lockout-device',
	locale: 'en',
	userAgent: null
});

/** Six-digit guesses that are none of the codes the authenticator accepts right now. */
function wrongCodes(count: number, valid: string[]): string[] {
	const codes: string[] = [];
	for (let n = 0; codes.length < count; n += 1) {
		const code = String((123_457 + n * 7_919) % 1_000_000).padStart(6, '0');
		if (!valid.includes(code)) codes.push(code);
	}
	return codes;
}

describe.each(testDatabases)('sign-in lockouts under concurrency on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let passwordHash: string;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(() => database.dispose());

	const buyer = async () =>
		(await insertAccount(database.db, { email: uniqueEmail('lock'), password_hash: passwordHash }))
			.email!;
	/** Audit rows of attempts that reached the password check. */
	async function evaluated(actions: string[], where: { subjectIds?: string[]; ip?: string }) {
		let query = database.db.selectFrom('audit_events').select('id').where('action', 'in', actions);
		if (where.subjectIds) query = query.where('subject_id', 'in', where.subjectIds);
		if (where.ip) query = query.where('ip', '=', where.ip);
		return (await query.execute()).length;
	}
	const accountId = async (email: string) =>
		(
			await database.db
				.selectFrom('accounts')
				.select('id')
				.where('email', '=', email)
				.executeTakeFirstOrThrow()
		).id;
	const buyerEvaluations = ['session.sign_in_failed', 'session.signed_in'];
	const agentEvaluations = ['agent.sign_in_failed', 'agent.signed_in'];
	const codeOf = (r: { ok: boolean } | Failure) => (r.ok ? 'ok' : (r as Failure).code);

	it(`R15 sign-in: ${AT_ONCE} concurrent wrong passwords for one buyer → at most ${IDENTIFIER_LOCK} evaluated, the rest 429`, async () => {
		const email = await buyer();
		const results = await Promise.all(
			Array.from({ length: AT_ONCE }, (_, i) =>
				signIn(app, { identifier: email, password: `wrong guess ${i}` }, buyerMeta(freshAddress()))
			)
		);
		const count = await evaluated(buyerEvaluations, { subjectIds: [await accountId(email)] });
		expect(count, `${count} of ${AT_ONCE} evaluated`).toBeLessThanOrEqual(IDENTIFIER_LOCK);
		expect(count).toBeGreaterThanOrEqual(1);
		const codes = results.map(codeOf);
		expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(count);
		expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(AT_ONCE - count);
		// The refused attempts were refunded: the delays go on growing from the failures evaluated.
		app.clock.advance(15 * 60_000);
		expect(
			codeOf(
				await signIn(
					app,
					{ identifier: email, password: 'one more guess' },
					buyerMeta(freshAddress())
				)
			)
		).toBe('invalid_credentials');
		expect(
			await signIn(app, { identifier: email, password: PASSWORD }, buyerMeta(freshAddress()))
		).toMatchObject({
			code: 'rate_limited',
			retryAfterSeconds: delayAfter(count + 1, IDENTIFIER_LOCK - 1) / 1000
		});
	});

	it(`R15 sign-in: ${AT_ONCE} concurrent attempts from one address over ${AT_ONCE} buyers → at most ${ADDRESS_LOCK} evaluated`, async () => {
		const emails = await Promise.all(Array.from({ length: AT_ONCE }, () => buyer()));
		const ip = freshAddress();
		const results = await Promise.all(
			emails.map((email) =>
				signIn(app, { identifier: email, password: 'sprayed password 1' }, buyerMeta(ip))
			)
		);
		const count = await evaluated(buyerEvaluations, { ip });
		expect(count, `${count} of ${AT_ONCE} evaluated`).toBeLessThanOrEqual(ADDRESS_LOCK);
		expect(results.map(codeOf).filter((c) => c === 'rate_limited')).toHaveLength(AT_ONCE - count);
	});

	it('R15 sign-in: a success is refunded: 30 buyers signing in from one address leave its 20 failures free', async () => {
		const ip = freshAddress();
		for (let i = 0; i < 30; i += 1)
			expect(
				await signIn(app, { identifier: await buyer(), password: PASSWORD }, buyerMeta(ip))
			).toMatchObject({ ok: true });
		for (let i = 0; i < ADDRESS_LOCK; i += 1)
			expect(
				codeOf(
					await signIn(app, { identifier: uniqueEmail('ghost'), password: 'wrong' }, buyerMeta(ip))
				)
			).toBe('invalid_credentials');
		expect(
			codeOf(
				await signIn(app, { identifier: uniqueEmail('ghost'), password: 'wrong' }, buyerMeta(ip))
			)
		).toBe('rate_limited');
	});

	it('R15 sign-in: failures from 30 addresses inside one IPv6 /64 share one per-address lock', async () => {
		const results = [];
		for (let i = 1; i <= 30; i += 1)
			results.push(
				codeOf(
					await signIn(
						app,
						{ identifier: uniqueEmail('ghost'), password: 'wrong' },
						buyerMeta(`2001:db8:51:7:${i.toString(16)}::${i}`)
					)
				)
			);
		expect(results).toEqual([
			...Array<string>(ADDRESS_LOCK).fill('invalid_credentials'),
			...Array<string>(30 - ADDRESS_LOCK).fill('rate_limited')
		]);
	});

	it('R15 sign-in: failures from 100 /64s inside one IPv6 /48 meet the /48 tier (4 × the /64’s free failures)', async () => {
		const results = [];
		for (let i = 1; i <= 100; i += 1)
			results.push(
				codeOf(
					await signIn(
						app,
						{ identifier: uniqueEmail('ghost'), password: 'wrong' },
						buyerMeta(`2001:db8:48:${i.toString(16)}::1`)
					)
				)
			);
		expect(results).toEqual([
			...Array<string>(WIDE_NETWORK_LOCK).fill('invalid_credentials'),
			...Array<string>(100 - WIDE_NETWORK_LOCK).fill('rate_limited')
		]);
	});

	it('R15/R22: the second step and turning TOTP off count an IPv6 /48 at 4× the /64; IPv4 has no wider tier', () => {
		for (const rules of [
			codeGuessRules(app, 'some-account', '2001:db8:49:1::1'),
			signInRules(app, { failures: 'f', block: 'b' }, { name: 'signin', ip: '2001:db8:49:1::1' })
		]) {
			const [subject, narrow, wide] = rules;
			expect(rules).toHaveLength(3);
			expect([
				subject!.delayAfter(IDENTIFIER_LOCK - 1),
				subject!.delayAfter(IDENTIFIER_LOCK)
			]).toEqual([0, 15_000]);
			expect([narrow!.delayAfter(ADDRESS_LOCK - 1), narrow!.delayAfter(ADDRESS_LOCK)]).toEqual([
				0, 15_000
			]);
			expect([
				wide!.delayAfter(WIDE_NETWORK_LOCK - 1),
				wide!.delayAfter(WIDE_NETWORK_LOCK)
			]).toEqual([0, 15_000]);
			expect(wide!.failures).toMatch(/:ip48:/);
			expect(wide!.clearOnSuccess).toBe(false);
		}
		// The same /48 from another /64 shares the wide counter, not the narrow one.
		const [, a, aw] = codeGuessRules(app, 'x', '2001:db8:49:1::1');
		const [, b, bw] = codeGuessRules(app, 'x', '2001:db8:49:2::1');
		expect(a!.failures).not.toBe(b!.failures);
		expect(aw!.failures).toBe(bw!.failures);
		expect(codeGuessRules(app, 'x', '198.51.100.7')).toHaveLength(2);
	});

	it('R15 sign-in: ::ffff:1.2.3.4 and 1.2.3.4 are one address to the per-address lock', async () => {
		const results = [];
		for (let i = 0; i < ADDRESS_LOCK + 2; i += 1)
			results.push(
				codeOf(
					await signIn(
						app,
						{ identifier: uniqueEmail('ghost'), password: 'wrong' },
						buyerMeta(i % 2 ? '::ffff:1.2.3.4' : '1.2.3.4')
					)
				)
			);
		expect(results).toEqual([
			...Array<string>(ADDRESS_LOCK).fill('invalid_credentials'),
			'rate_limited',
			'rate_limited'
		]);
	});

	describe('§7a a stranger cannot lock the owner out', () => {
		const attempt = (email: string, password: string, jar: CookieJar = new Map()) =>
			callEndpoint(signInEndpoint, app, {
				json: { identifier: email, password },
				jar,
				clientAddress: freshAddress()
			});
		/** A buyer whose own browser has signed in before (its device cookie is known). */
		async function ownerWithBrowser() {
			const email = await buyer();
			const browser: CookieJar = new Map();
			expect((await attempt(email, PASSWORD, browser)).status).toBe(201);
			expect(browser.has('device')).toBe(true);
			return { email, browser };
		}

		it("30 failed sign-ins from 30 networks, then the owner's known browser signs in at once with the right password", async () => {
			const { email, browser } = await ownerWithBrowser();
			for (let i = 0; i < 30; i += 1) {
				const res = await attempt(email, `stranger guess ${i}`);
				expect([401, 429]).toContain(res.status);
			}
			// The identifier is throttled for everyone else…
			const stranger = await attempt(email, PASSWORD);
			expect([stranger.status, (await stranger.json()).error.code]).toEqual([429, 'rate_limited']);
			// …but not for the browser that signed in to the account before.
			expect((await attempt(email, PASSWORD, browser)).status).toBe(201);
			// And a stranger from a new browser is still throttled after the owner's success.
			const after = await attempt(email, PASSWORD);
			expect([after.status, (await after.json()).error.code]).toEqual([429, 'rate_limited']);
		});

		it("the known browser's own budget is bounded: a stolen device cookie alone meets the same growing delays", async () => {
			const { email, browser } = await ownerWithBrowser();
			const codes: string[] = [];
			for (let i = 0; i < IDENTIFIER_LOCK + 1; i += 1) {
				const res = await attempt(email, `cookie thief guess ${i}`, browser);
				codes.push((await res.json()).error.code);
			}
			expect(codes).toEqual([
				...Array(IDENTIFIER_LOCK).fill('invalid_credentials'),
				'rate_limited'
			]);
			// Its failures are its own: a browser with no history is not throttled by them.
			expect((await attempt(email, PASSWORD)).status).toBe(201);
		});

		it("R26: failures that meet an IPv6 /48's delay leave the owner's known browser in that /48 its own budget", async () => {
			const { email, browser } = await ownerWithBrowser();
			const from = (i: number) => `2001:db8:4a:${i.toString(16)}::1`;
			const codes: string[] = [];
			for (let i = 1; i <= WIDE_NETWORK_LOCK + 1; i += 1) {
				const res = await callEndpoint(signInEndpoint, app, {
					json: { identifier: uniqueEmail('ghost'), password: 'wrong' },
					clientAddress: from(i)
				});
				codes.push((await res.json()).error.code);
			}
			expect(codes.at(-1)).toBe('rate_limited');
			const stranger = await callEndpoint(signInEndpoint, app, {
				json: { identifier: email, password: PASSWORD },
				clientAddress: from(500)
			});
			expect([stranger.status, (await stranger.json()).error.code]).toEqual([429, 'rate_limited']);
			const owner = await callEndpoint(signInEndpoint, app, {
				json: { identifier: email, password: PASSWORD },
				jar: browser,
				clientAddress: from(501)
			});
			expect(owner.status).toBe(201);
		});

		it("the known browser's budget is per account: its cookie gives no budget on another account", async () => {
			const { browser } = await ownerWithBrowser();
			const other = await buyer();
			for (let i = 0; i < 30; i += 1) await attempt(other, `stranger guess ${i}`);
			const res = await attempt(other, PASSWORD, browser);
			expect([res.status, (await res.json()).error.code]).toEqual([429, 'rate_limited']);
		});
	});

	it(`R22: ${AT_ONCE} concurrent TOTP guesses with the right password → at most ${IDENTIFIER_LOCK} evaluated, the rest 429`, async () => {
		const agent = await makeAgent(app);
		const guesses = wrongCodes(AT_ONCE, [agent.totp(-1), agent.totp(), agent.totp(1)]);
		const results = await Promise.all(
			guesses.map((otp) =>
				signInAgent(
					app,
					{ username: agent.username, password: AGENT_PASSWORD, otp },
					{ ip: freshAddress() }
				)
			)
		);
		const count = await evaluated(agentEvaluations, { subjectIds: [agent.id] });
		expect(count, `${count} of ${AT_ONCE} evaluated`).toBeLessThanOrEqual(IDENTIFIER_LOCK);
		expect(count).toBeGreaterThanOrEqual(1);
		expect(results.map(codeOf).filter((c) => c === 'rate_limited')).toHaveLength(AT_ONCE - count);
		// Locked for 15 minutes, even with the right code.
		expect(
			codeOf(
				await signInAgent(
					app,
					{ username: agent.username, password: AGENT_PASSWORD, otp: agent.totp() },
					{ ip: freshAddress() }
				)
			)
		).toBe('rate_limited');
	});

	it(`R22: ${AT_ONCE} concurrent agent sign-ins from one address over 25 usernames → at most ${ADDRESS_LOCK} evaluated`, async () => {
		const agents = await Promise.all(Array.from({ length: 25 }, () => makeAgent(app)));
		const ip = freshAddress();
		const attempts = agents.flatMap((agent) =>
			wrongCodes(4, [agent.totp(-1), agent.totp(), agent.totp(1)]).map((otp) => ({ agent, otp }))
		);
		const results = await Promise.all(
			attempts.map(({ agent, otp }) =>
				signInAgent(app, { username: agent.username, password: AGENT_PASSWORD, otp }, { ip })
			)
		);
		const count = await evaluated(agentEvaluations, { ip });
		expect(count, `${count} of ${attempts.length} evaluated`).toBeLessThanOrEqual(ADDRESS_LOCK);
		expect(results.map(codeOf).filter((c) => c === 'rate_limited')).toHaveLength(
			attempts.length - count
		);
	});

	it('R22: a success is refunded: 25 agents signing in from one address leave its 20 failures free', async () => {
		const ip = freshAddress();
		for (let i = 0; i < 25; i += 1) {
			const agent = await makeAgent(app);
			expect(
				await signInAgent(
					app,
					{ username: agent.username, password: AGENT_PASSWORD, otp: agent.totp() },
					{ ip }
				)
			).toMatchObject({ ok: true });
		}
		for (let i = 0; i < ADDRESS_LOCK; i += 1)
			expect(
				codeOf(
					await signInAgent(
						app,
						{ username: `nobody-${i}`, password: 'wrong', otp: '000000' },
						{ ip }
					)
				)
			).toBe('invalid_credentials');
		expect(
			codeOf(
				await signInAgent(
					app,
					{ username: 'nobody-else', password: 'wrong', otp: '000000' },
					{ ip }
				)
			)
		).toBe('rate_limited');
	});

	it('R22: agent failures from 30 addresses inside one IPv6 /64, or as ::ffff:1.2.3.5 and 1.2.3.5, share one per-address lock', async () => {
		const inOne64 = [];
		for (let i = 1; i <= 30; i += 1)
			inOne64.push(
				codeOf(
					await signInAgent(
						app,
						{ username: `ghost-${i}`, password: 'wrong', otp: '000000' },
						{ ip: `2001:db8:52:9::${i.toString(16)}` }
					)
				)
			);
		expect(inOne64).toEqual([
			...Array<string>(ADDRESS_LOCK).fill('invalid_credentials'),
			...Array<string>(30 - ADDRESS_LOCK).fill('rate_limited')
		]);
		const mapped = [];
		for (let i = 0; i < ADDRESS_LOCK + 2; i += 1)
			mapped.push(
				codeOf(
					await signInAgent(
						app,
						{ username: `mapped-${i}`, password: 'wrong', otp: '000000' },
						{ ip: i % 2 ? '::ffff:1.2.3.5' : '1.2.3.5' }
					)
				)
			);
		expect(mapped).toEqual([
			...Array<string>(ADDRESS_LOCK).fill('invalid_credentials'),
			'rate_limited',
			'rate_limited'
		]);
	});
});
