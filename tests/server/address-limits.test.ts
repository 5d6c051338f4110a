import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressNetworks, canonicalAddress } from '../../src/lib/server/platform/address-key';
import { resolveClientAddress } from '../../src/lib/server/platform/client-address';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';

describe('R15: one address, one spelling', () => {
	it.each([
		[
			'2001:db8::1',
			[
				'2001:DB8::1',
				'2001:0db8:0000:0000:0000:0000:0000:0001',
				'2001:db8:0:0:0:0:0:1',
				'2001:db8::0:1',
				'[2001:db8::1]'
			]
		],
		['192.0.2.7', ['::ffff:192.0.2.7', '::FFFF:c000:0207', '0:0:0:0:0:ffff:192.0.2.7']],
		['2001:0:0:1::1', ['2001:0000:0000:0001:0000:0000:0000:0001']]
	])('%s is the canonical form of every spelling', (canonical, spellings) => {
		for (const spelling of spellings) expect(canonicalAddress(spelling), spelling).toBe(canonical);
	});

	it('an IPv6 client counts as its /64, inside its /48; IPv4 as itself', () => {
		expect(addressNetworks('2001:db8:aa:bb:1:2:3:4')).toEqual({
			narrow: '2001:db8:aa:bb::/64',
			wide: '2001:db8:aa::/48'
		});
		expect(addressNetworks('2001:db8:aa:bb:ffff::9').narrow).toBe(
			addressNetworks('2001:db8:aa:bb::1').narrow
		);
		expect(addressNetworks('203.0.113.9')).toEqual({ narrow: '203.0.113.9', wide: null });
		expect(canonicalAddress('not an address')).toBeNull();
	});

	it('the forwarded address a trusted proxy appended is canonical too', () => {
		const headers = new Headers({ 'x-forwarded-for': '6.6.6.6, 2001:DB8:0::0:1' });
		expect(resolveClientAddress(headers, () => '127.0.0.1', true)).toBe('2001:db8::1');
	});
});

describe.each(testDatabases)('R15 per-address limits count networks on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '60', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	});
	afterAll(() => database.dispose());

	const statusFrom = async (clientAddress: string) =>
		(await callEndpoint(check, app, { json: { identifier: uniqueEmail('net') }, clientAddress }))
			.status;

	it('R15: 80 checks from 80 addresses inside one IPv6 /64 meet the per-address limit at the 61st', async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 80; i++)
			statuses.push(
				await statusFrom(`2001:db8:1:1:${i.toString(16)}:${(i * 7).toString(16)}::${i + 1}`)
			);
		expect(statuses.indexOf(429)).toBe(60);
		expect(statuses.slice(60).every((s) => s === 429)).toBe(true);
		app.clock.advance(600_000);
	});

	it('R15: rotating /64s inside one /48 meets the wider tier', async () => {
		const statuses: number[] = [];
		// 4 × 60 fit in the /48; each /64 gets 50 so none meets its own limit.
		for (let i = 0; i < 260; i++)
			statuses.push(await statusFrom(`2001:db8:2:${Math.floor(i / 50).toString(16)}::${i + 1}`));
		expect(statuses.indexOf(429)).toBe(240);
		app.clock.advance(600_000);
	});

	it('R15: five spellings of one IPv6 address and the ::ffff: form of an IPv4 address share one bucket', async () => {
		const limited = testAppContext(database, { env: { CHECK_RATE_LIMIT_PER_IP: '4' } });
		const one = async (clientAddress: string) =>
			(
				await callEndpoint(check, limited, {
					json: { identifier: uniqueEmail('spell') },
					clientAddress
				})
			).status;
		const v6 = [
			'2001:DB8:3::1',
			'2001:0db8:0003:0000:0000:0000:0000:0001',
			'2001:db8:3:0:0:0:0:1',
			'2001:db8:3::0:1',
			'2001:db8:3::1'
		];
		expect(await Promise.all(v6.map((a) => one(a)))).toContain(429);
		const v4 = [
			'198.51.100.44',
			'::ffff:198.51.100.44',
			'::ffff:c633:642c',
			'198.51.100.44',
			'::ffff:198.51.100.44'
		];
		const answers: number[] = [];
		for (const a of v4) answers.push(await one(a));
		expect(answers).toEqual([200, 200, 200, 200, 429]);
		limited.clock.advance(600_000);
	});

	it('R18: the same networks count for code requests (password reset shown)', async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 22; i++) {
			const res = await callEndpoint(requestReset, app, {
				json: { identifier: uniqueEmail('reset-net') },
				clientAddress: `2001:db8:4:4::${(i + 1).toString(16)}`
			});
			statuses.push(res.status);
		}
		expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
		expect(statuses.slice(20)).toEqual([429, 429]);
		app.clock.advance(3_600_000);
	});
});
