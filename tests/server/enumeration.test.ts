import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

const PAIRS = 200;

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

describe.each(testDatabases)('R15 enumeration resistance of the check on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	const registered: string[] = [];
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '1000000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '1000000' }
		});
		for (let i = 0; i < 50; i++)
			registered.push((await insertAccount(database.db, { email: uniqueEmail('timing') })).email!);
	});
	afterAll(() => database.dispose());

	async function timed(identifier: string) {
		const start = performance.now();
		const res = await callEndpoint(POST, app, { json: { identifier } });
		const body = await res.text();
		return {
			ms: performance.now() - start,
			status: res.status,
			headers: [...res.headers.keys()].sort().join(','),
			body
		};
	}

	it('R15: interleaved checks of registered and unregistered identifiers take the same time and shape', async () => {
		const known: number[] = [];
		const unknown: number[] = [];
		for (let i = 0; i < 20; i++) await timed(uniqueEmail('warmup'));
		for (let i = 0; i < PAIRS; i++) {
			const order = i % 2 === 0;
			const a = await timed(order ? registered[i % registered.length]! : uniqueEmail('timing'));
			const b = await timed(order ? uniqueEmail('timing') : registered[i % registered.length]!);
			(order ? known : unknown).push(a.ms);
			(order ? unknown : known).push(b.ms);
			expect(a.status).toBe(b.status);
			expect(a.headers).toBe(b.headers);
		}
		const [mk, mu] = [median(known), median(unknown)];
		// A small threshold: a quarter of the median, at least 0.3 ms (timer and GC noise).
		const threshold = Math.max(0.3, 0.25 * Math.min(mk, mu));
		expect(Math.abs(mk - mu), `medians ${mk.toFixed(3)} ms vs ${mu.toFixed(3)} ms`).toBeLessThan(
			threshold
		);
	});
});
