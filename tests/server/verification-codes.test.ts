import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/lib/server/core/clock';
import { testKeyring } from '../../src/lib/server/core/keys';
import { consumeAccountCode, consumeCode, issueCode } from '../../src/lib/server/messaging/codes';
import { sendCode } from '../../src/lib/server/messaging/code-delivery';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { insertAccount, uniqueEmail } from '../support/factories';

describe.each(testDatabases)('verification codes on $name', ({ open }) => {
	let database: TestDatabase;
	const keys = testKeyring(1);
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	function setup() {
		const clock = new FixedClock('2026-11-26T12:00:00Z');
		const deps = { ...testAppContext(database), clock, keys };
		const identifier = uniqueEmail();
		const issue = () => issueCode(deps, { purpose: 'register', identifier });
		const consume = (code: string) => consumeCode(deps, { purpose: 'register', identifier, code });
		return { clock, deps, identifier, issue, consume };
	}
	async function issued(issue: () => ReturnType<typeof issueCode>) {
		const result = await issue();
		if (!result.ok) throw new Error('expected a code');
		return result;
	}
	const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

	it('R6: resends pressed inside the 60-second cooldown spend no send cap (12 early presses, then a code after the wait)', async () => {
		const { clock, deps, identifier } = setup();
		const send = () =>
			sendCode(deps, {
				purpose: 'register',
				to: { kind: 'email', value: identifier },
				locale: 'en',
				ip: '198.51.100.7'
			});
		expect((await send()).ok).toBe(true);
		// More presses than the 6-an-hour cap per identifier and network.
		for (let press = 0; press < 12; press += 1) {
			const early = await send();
			expect(early.ok ? 'sent' : early.code).toBe('rate_limited');
			clock.advance(4_000);
		}
		clock.advance(13_000);
		expect((await send()).ok).toBe(true);
	});

	it('R6: one live code per account and purpose: the newest wins even when two are issued in the same millisecond', async () => {
		const { deps } = setup();
		const accountId = (await insertAccount(database.db, { email: uniqueEmail('both') })).id;
		const first = await issueCode(deps, {
			purpose: 'contact_change',
			identifier: uniqueEmail('target-a'),
			accountId
		});
		const second = await issueCode(deps, {
			purpose: 'contact_change',
			identifier: uniqueEmail('target-b'),
			accountId
		});
		if (!first.ok || !second.ok) throw new Error('expected two codes');
		const consume = (code: string) =>
			consumeAccountCode(deps, { purpose: 'contact_change', accountId, code });
		expect((await consume(first.code)).ok).toBe(false);
		expect((await consume(second.code)).ok).toBe(true);
	});

	it('R6: 6 digits, stored only as a keyed hash', async () => {
		const { issue, identifier } = setup();
		const { code } = await issued(issue);
		expect(code).toMatch(/^\d{6}$/);
		const row = await database.db
			.selectFrom('verification_codes')
			.selectAll()
			.where('identifier', '=', identifier)
			.executeTakeFirstOrThrow();
		expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(row)).not.toContain(code);
	});

	it('R6: works at 4:59 and fails with code_expired at 5:00', async () => {
		const a = setup();
		const first = await issued(a.issue);
		a.clock.advance(4 * 60_000 + 59_000);
		expect((await a.consume(first.code)).ok).toBe(true);

		const b = setup();
		const second = await issued(b.issue);
		b.clock.advance(5 * 60_000);
		expect(await b.consume(second.code)).toEqual({ ok: false, reason: 'code_expired' });
	});

	it('R6: single use', async () => {
		const { issue, consume } = setup();
		const { code } = await issued(issue);
		expect((await consume(code)).ok).toBe(true);
		expect(await consume(code)).toEqual({ ok: false, reason: 'code_invalid' });
	});

	it('R6: five wrong attempts kill the code; the sixth try fails even when correct', async () => {
		const { issue, consume } = setup();
		const { code } = await issued(issue);
		for (let i = 0; i < 5; i++)
			expect(await consume(wrong(code))).toMatchObject({ ok: false, reason: 'code_invalid' });
		expect(await consume(code)).toEqual({ ok: false, reason: 'too_many_attempts' });
	});

	it('R6: each wrong try says how many tries this code has left; a new code has 5 again', async () => {
		const { issue, consume, clock } = setup();
		const { code } = await issued(issue);
		const left = [];
		for (let i = 0; i < 5; i++)
			left.push((await consume(wrong(code))) as { attemptsLeft?: number });
		expect(left.map((r) => r.attemptsLeft)).toEqual([4, 3, 2, 1, 0]);
		// A killed code tells nothing more, right or wrong.
		expect(await consume(wrong(code))).toEqual({ ok: false, reason: 'too_many_attempts' });
		clock.advance(60_000);
		const next = await issued(issue);
		expect(await consume(wrong(next.code))).toEqual({
			ok: false,
			reason: 'code_invalid',
			attemptsLeft: 4
		});
	});

	it('R6: a resend before 60 s is refused with the time to wait; at 60 s it replaces the old code', async () => {
		const { issue, consume, clock } = setup();
		const first = await issued(issue);
		clock.advance(59_999);
		const early = await issue();
		expect(early).toEqual({
			ok: false,
			reason: 'cooldown',
			resendAfter: new Date('2026-11-26T12:01:00Z')
		});
		clock.advance(1);
		const second = await issued(issue);
		expect(second.expiresAt.toISOString()).toBe('2026-11-26T12:06:00.000Z');
		if (first.code !== second.code)
			expect(await consume(first.code)).toMatchObject({ ok: false, reason: 'code_invalid' });
		expect((await consume(second.code)).ok).toBe(true);
	});

	it('R6: accepts the code typed with spaces or full-width digits', async () => {
		const { issue, consume } = setup();
		const { code } = await issued(issue);
		const fullWidth = [...code].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
		expect((await consume(` ${fullWidth} `)).ok).toBe(true);
	});

	it('R6: 20 parallel confirmations of one code: exactly one succeeds', async () => {
		const { issue, consume } = setup();
		const { code } = await issued(issue);
		const results = await Promise.all(Array.from({ length: 20 }, () => consume(code)));
		expect(results.filter((r) => r.ok)).toHaveLength(1);
	});

	it('R6: 20 parallel wrong guesses never buy more than 5 attempts', async () => {
		const { issue, consume, identifier } = setup();
		const { code } = await issued(issue);
		await Promise.all(Array.from({ length: 20 }, () => consume(wrong(code))));
		const row = await database.db
			.selectFrom('verification_codes')
			.select('attempts')
			.where('identifier', '=', identifier)
			.executeTakeFirstOrThrow();
		expect(row.attempts).toBe(5);
		expect(await consume(code)).toEqual({ ok: false, reason: 'too_many_attempts' });
	});
});
