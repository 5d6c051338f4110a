import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { collectMetrics, countCheck, createMetrics } from '../../src/lib/server/platform/metrics';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

/** Prometheus text as series → value, e.g. `asc_checks_total{outcome="registered"}` → 3. */
function parse(text: string): Map<string, number> {
	const series = new Map<string, number>();
	for (const line of text.split('\n')) {
		if (!line || line.startsWith('#')) continue;
		const at = line.lastIndexOf(' ');
		series.set(line.slice(0, at), Number(line.slice(at + 1)));
	}
	return series;
}
/** The sum of every series of one family (all label values). */
const total = (scrape: Map<string, number>, family: string) =>
	[...scrape]
		.filter(([s]) => s === family || s.startsWith(`${family}{`))
		.reduce((sum, [, v]) => sum + v, 0);
const value = (scrape: Map<string, number>, series: string) => scrape.get(series) ?? 0;

/** The help text of every family in a scrape. */
function helps(text: string): Map<string, string> {
	const found = new Map<string, string>();
	for (const line of text.split('\n')) {
		const [hash, kind, name, ...rest] = line.split(' ');
		if (hash === '#' && kind === 'HELP' && name) found.set(name, rest.join(' '));
	}
	return found;
}

const PROCESS_FAMILIES = [
	'asc_checks_total',
	'asc_breached_password_checks_total',
	'asc_write_behind_failures_total',
	'process_resident_memory_bytes',
	'process_uptime_seconds'
];

describe('createMetrics', () => {
	it('gives every context its own registry: counting on one leaves the other alone', async () => {
		const a = createMetrics();
		const b = createMetrics();
		expect(a.registry).not.toBe(b.registry);
		countCheck(a, 'registered');
		countCheck(a, 'registered');
		countCheck(b, 'hidden');
		const [ta, tb] = [parse(await a.registry.metrics()), parse(await b.registry.metrics())];
		expect(value(ta, 'asc_checks_total{outcome="registered"}')).toBe(2);
		expect(value(tb, 'asc_checks_total{outcome="registered"}')).toBe(0);
		expect(value(tb, 'asc_checks_total{outcome="hidden"}')).toBe(1);
	});

	it('starts every check outcome at 0, so each series exists before the first check', async () => {
		const scrape = parse(await createMetrics().registry.metrics());
		for (const outcome of ['registered', 'unregistered', 'hidden', 'rate_limited'])
			expect(scrape.get(`asc_checks_total{outcome="${outcome}"}`)).toBe(0);
	});

	it('R4: an outcome of an unexpected shape leaves as "other"', async () => {
		const metrics = createMetrics();
		countCheck(metrics, 'user@example.com');
		countCheck(metrics, 'Registered');
		const text = await metrics.registry.metrics();
		expect(value(parse(text), 'asc_checks_total{outcome="other"}')).toBe(2);
		expect(text).not.toContain('@');
	});
});

describe.each(testDatabases)('metrics of two instances on one $name database', ({ open }) => {
	let database: TestDatabase;
	// Two processes sharing the database: each its own context, so its own metrics registry.
	const instance = () =>
		testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	let a: ReturnType<typeof instance>;
	let b: ReturnType<typeof instance>;
	let scrapes: [Map<string, number>, Map<string, number>];
	let texts: [string, string];

	beforeAll(async () => {
		database = await open();
		a = instance();
		b = instance();
		expect(a.metrics.registry).not.toBe(b.metrics.registry);
		const known = uniqueEmail();
		await insertAccount(database.db, { email: known });
		const run = async (app: typeof a, identifier: string) => {
			const res = await callEndpoint(check, app, {
				json: { identifier },
				clientAddress: '1.0.1.1'
			});
			expect(res.status).toBe(200);
		};
		// A answers 3 checks (1 registered, 2 unregistered), B answers 2 (1 registered, 1 unregistered).
		await run(a, known);
		await run(a, uniqueEmail());
		await run(a, uniqueEmail());
		await run(b, known);
		await run(b, uniqueEmail());
		// R15: each instance stores its checks behind, within WRITE_BEHIND_WAIT_MS (a scrape stores
		// its own instance's first): the shared gauges count what every instance has stored.
		await Promise.all([a, b].flatMap((c) => [c.writeBehind.flush(), c.limits.flush()]));
		texts = [await collectMetrics(a), await collectMetrics(b)];
		scrapes = [parse(texts[0]), parse(texts[1])];
	});
	afterAll(() => database.dispose());

	it('asc_checks_total is per instance: A counts its 3 checks, B its 2', () => {
		expect(total(scrapes[0], 'asc_checks_total')).toBe(3);
		expect(total(scrapes[1], 'asc_checks_total')).toBe(2);
		expect(value(scrapes[0], 'asc_checks_total{outcome="registered"}')).toBe(1);
		expect(value(scrapes[0], 'asc_checks_total{outcome="unregistered"}')).toBe(2);
		expect(value(scrapes[1], 'asc_checks_total{outcome="registered"}')).toBe(1);
		expect(value(scrapes[1], 'asc_checks_total{outcome="unregistered"}')).toBe(1);
	});

	it('summing asc_checks_total over the instances gives the truth: 5 checks', () => {
		expect(total(scrapes[0], 'asc_checks_total') + total(scrapes[1], 'asc_checks_total')).toBe(5);
		for (const outcome of ['registered', 'unregistered']) {
			const series = `asc_checks_total{outcome="${outcome}"}`;
			expect(value(scrapes[0], series) + value(scrapes[1], series)).toBe(
				outcome === 'registered' ? 2 : 3
			);
		}
	});

	it('database gauges are the same on both instances (aggregate with max): asc_checks_recorded is 5 on each', () => {
		expect(total(scrapes[0], 'asc_checks_recorded')).toBe(5);
		expect(total(scrapes[1], 'asc_checks_recorded')).toBe(5);
		const shared = (scrape: Map<string, number>) =>
			[...scrape].filter(([s]) => s.startsWith('asc_') && !s.startsWith('asc_checks_total'));
		expect(shared(scrapes[1])).toEqual(shared(scrapes[0]));
		expect(value(scrapes[0], 'asc_appeals_overdue')).toBe(value(scrapes[1], 'asc_appeals_overdue'));
	});

	it('every help text says whether the family is per instance or the same on every instance', () => {
		const help = helps(texts[0]);
		for (const [name, text] of help) {
			if (PROCESS_FAMILIES.includes(name)) expect(text).not.toMatch(/same on every instance/);
			else expect(text, name).toMatch(/same on every instance, aggregate with max, not sum/);
		}
		expect(help.get('asc_checks_total')).toMatch(/sum over instances/);
		expect([...help.keys()].sort()).toEqual([...helps(texts[1]).keys()].sort());
	});
});
