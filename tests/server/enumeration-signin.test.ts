import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

/**
 * Enumeration: an outsider compares answers for an identifier they suspect is registered with one
 * they know is not. Sign-in (wrong password vs unknown identifier) and the check in `strict`
 * mode must not differ in status, headers (except Date), body or median time. Throttles are kept
 * out of the way the way an attacker would: a new client address per request and many
 * identifiers, so each stays under its free failures.
 */

const SAMPLES = 160; // per side, interleaved
const REGISTERED = 60;
const PASSWORD = 'correct horse battery staple';

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

let addresses = 0;
/** A fresh documentation-free private address per request (no IP country either way). */
function freshAddress(): string {
	addresses += 1;
	return `10.${88 + Math.floor(addresses / 62_500)}.${Math.floor(addresses / 250) % 250}.${(addresses % 250) + 1}`;
}

type Sample = { ms: number; status: number; headers: string; body: string };

async function interleave(
	known: string[],
	sample: (identifier: string) => Promise<Sample>,
	unknown: () => string
) {
	const a: Sample[] = [];
	const b: Sample[] = [];
	for (let i = 0; i < 10; i += 1) {
		await sample(known[i % known.length]!);
		await sample(unknown());
	}
	for (let i = 0; i < SAMPLES; i += 1) {
		// Alternate which side goes first, so drift (GC, JIT, cache) falls on both alike.
		if (i % 2 === 0) {
			a.push(await sample(known[i % known.length]!));
			b.push(await sample(unknown()));
		} else {
			b.push(await sample(unknown()));
			a.push(await sample(known[i % known.length]!));
		}
	}
	return { registered: a, unregistered: b };
}

function expectIndistinguishable(samples: { registered: Sample[]; unregistered: Sample[] }) {
	const shapes = (list: Sample[]) => new Set(list.map((s) => `${s.status}|${s.headers}|${s.body}`));
	const [known, unknown] = [shapes(samples.registered), shapes(samples.unregistered)];
	expect(known.size).toBe(1);
	expect([...unknown]).toEqual([...known]);
	const [mk, mu] = [
		median(samples.registered.map((s) => s.ms)),
		median(samples.unregistered.map((s) => s.ms))
	];
	const threshold = Math.max(0.5, 0.25 * Math.min(mk, mu));
	expect(
		Math.abs(mk - mu),
		`medians ${mk.toFixed(3)} ms (registered) vs ${mu.toFixed(3)} ms (unregistered), allowed ${threshold.toFixed(3)} ms`
	).toBeLessThan(threshold);
}

/**
 * The requests of one browser that has its device cookie, behind a proxy that names requests: the
 * hooks then add no new device cookie and no random request id, which would differ every time.
 */
const SAME_BROWSER = {
	cookie: 'device=abcdefghijklmnopqrstuvwxyz234567',
	'x-request-id': 'enumeration'
};

/** Headers as name: value lines, without Date (it names the second the answer left). */
function headerLines(response: Response): string {
	return [...response.headers]
		.filter(([name]) => name !== 'date')
		.map(([name, value]) => `${name}: ${value}`)
		.sort()
		.join('\n');
}

describe.each(testDatabases)('enumeration by sign-in and strict check on $name', ({ open }) => {
	let database: TestDatabase;
	const registered: string[] = [];
	beforeAll(async () => {
		database = await open();
		const hash = await hashPassword(PASSWORD);
		for (let i = 0; i < REGISTERED; i += 1)
			registered.push(
				(await insertAccount(database.db, { email: uniqueEmail('enum'), password_hash: hash }))
					.email!
			);
	}, 60_000);
	afterAll(() => database.dispose());

	it('V6.3.8: sign-in with a wrong password and with an unknown identifier answer alike in status, headers, body and median time', async () => {
		const app = testAppContext(database);
		const sample = async (identifier: string): Promise<Sample> => {
			const started = performance.now();
			const response = await callEndpoint(signIn, app, {
				json: { identifier, password: 'not the right password at all' },
				headers: SAME_BROWSER,
				clientAddress: freshAddress()
			});
			const body = await response.text();
			return {
				ms: performance.now() - started,
				status: response.status,
				headers: headerLines(response),
				body
			};
		};
		const samples = await interleave(registered, sample, () => uniqueEmail('enum'));
		expect(samples.registered[0]!.status).toBe(401);
		expect(JSON.parse(samples.registered[0]!.body).error.code).toBe('invalid_credentials');
		expectIndistinguishable(samples);
		// The throttle was really out of the way: no 429 on either side.
		expect([...samples.registered, ...samples.unregistered].every((s) => s.status === 401)).toBe(
			true
		);
	}, 120_000);

	it('§7b: a wrong password for a frozen account answers as for an unknown identifier in status, headers, body and median time', async () => {
		const app = testAppContext(database);
		// Accounts of their own: the registered ones above have used up part of their free failures.
		const hash = await hashPassword(PASSWORD);
		const frozen: string[] = [];
		for (let i = 0; i < REGISTERED; i += 1)
			frozen.push(
				(
					await insertAccount(database.db, {
						email: uniqueEmail('frozen'),
						password_hash: hash,
						frozen_at: app.clock.now().getTime()
					})
				).email!
			);
		const sample = async (identifier: string): Promise<Sample> => {
			const started = performance.now();
			const response = await callEndpoint(signIn, app, {
				json: { identifier, password: 'not the right password at all' },
				headers: SAME_BROWSER,
				clientAddress: freshAddress()
			});
			const body = await response.text();
			return {
				ms: performance.now() - started,
				status: response.status,
				headers: headerLines(response),
				body
			};
		};
		const samples = await interleave(frozen, sample, () => uniqueEmail('enum'));
		expect(JSON.parse(samples.registered[0]!.body).error.code).toBe('invalid_credentials');
		expectIndistinguishable(samples);
		expect([...samples.registered, ...samples.unregistered].every((s) => s.status === 401)).toBe(
			true
		);
	}, 120_000);

	it('R15a strict: the first answer of the check is the same for registered and unregistered identifiers (masked identifier aside)', async () => {
		const app = testAppContext(database, { env: { CHECK_DISCLOSURE: 'strict' } });
		const sample = async (identifier: string): Promise<Sample> => {
			const started = performance.now();
			const response = await callEndpoint(check, app, {
				json: { identifier },
				headers: SAME_BROWSER,
				clientAddress: freshAddress()
			});
			const text = await response.text();
			const ms = performance.now() - started;
			const body = JSON.parse(text) as { identifier?: { masked?: string } };
			expect(body.identifier?.masked).toMatch(/\*/);
			delete body.identifier!.masked;
			return {
				ms,
				status: response.status,
				headers: headerLines(response),
				body: JSON.stringify(body)
			};
		};
		const samples = await interleave(registered, sample, () => uniqueEmail('enum'));
		expect(samples.registered[0]!.status).toBe(200);
		const report = JSON.parse(samples.registered[0]!.body);
		expect(report).not.toHaveProperty('contactChange');
		expectIndistinguishable(samples);
	}, 120_000);
});
