import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../src/routes/api/v1/check/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, testAppContext, type TestApp } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

// Addresses the test IP-to-country data places: 8.8.8.8 in the US, 1.0.1.1 in CN; 10.0.0.1 and
// 127.0.0.1 are private and loopback, whose country nobody can tell.
const US_NETWORK = '8.8.8.8';
const CN_NETWORK = '1.0.1.1';

describe.each(testDatabases)(
	'R9/R12/R13: the check keeps its promise for every identifier on $name',
	({ open }) => {
		let database: TestDatabase;
		let app: TestApp;
		beforeAll(async () => {
			({ database, app } = await openTestApp(open, {
				env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
			}));
		});
		afterAll(() => database.dispose());

		const check = async (
			identifier: string,
			opts: { country?: string; ip: string; app?: typeof app }
		) => {
			const res = await callEndpoint(POST, opts.app ?? app, {
				json: { identifier, ...(opts.country ? { country: opts.country } : {}) },
				clientAddress: opts.ip
			});
			expect(res.status).toBe(200);
			return res.json();
		};
		const codes = (report: { warnings: { code: string }[] }) => report.warnings.map((w) => w.code);

		it('R9: an unregistered email on a foreign network is warned against its intended country', async () => {
			const report = await check(uniqueEmail('promise'), { ip: US_NETWORK, country: 'CN' });
			expect(report.registered).toBe(false);
			expect(report.networkCountry).toBe('US');
			expect(report.warnings).toEqual([
				expect.objectContaining({ code: 'ip_country_mismatch', requestCountry: 'US' })
			]);
		});

		it('R9: an unregistered email whose intended country is the network country is not warned', async () => {
			const report = await check(uniqueEmail('promise'), { ip: CN_NETWORK, country: 'CN' });
			expect(report.networkCountry).toBe('CN');
			expect(codes(report)).toEqual([]);
		});

		it('R9: a number typed with +code is compared with the intended country, as registration does', async () => {
			const report = await check('+86 139 0000 0000', { ip: US_NETWORK, country: 'CN' });
			expect(report.identifier.kind).toBe('phone');
			expect(codes(report)).toEqual(['ip_country_mismatch']);
		});

		it('R9: an account is compared with its own country, whatever intended country is sent', async () => {
			const email = uniqueEmail('promise');
			await insertAccount(database.db, { email, country: 'US' });
			expect(codes(await check(email, { ip: US_NETWORK, country: 'CN' }))).toEqual([]);
			expect(codes(await check(email, { ip: CN_NETWORK, country: 'US' }))).toEqual([
				'ip_country_mismatch'
			]);
		});

		it('R9: a network whose country cannot be told is said so (networkCountry null), and not flagged', async () => {
			for (const ip of ['10.0.0.1', '127.0.0.1']) {
				const unregistered = await check(uniqueEmail('promise'), { ip, country: 'CN' });
				expect(unregistered.networkCountry).toBeNull();
				expect(codes(unregistered)).toEqual([]);
			}
			const email = uniqueEmail('promise');
			await insertAccount(database.db, { email, country: 'CN' });
			const registered = await check(email, { ip: '10.0.0.1' });
			expect(registered).toMatchObject({ registered: true, networkCountry: null, warnings: [] });
		});

		it("R15a strict mode: the asker's network country is shown, the same for every identifier", async () => {
			const strict = testAppContext(database, { env: { CHECK_DISCLOSURE: 'strict' } });
			const registered = uniqueEmail('strict-net');
			await insertAccount(database.db, { email: registered, country: 'CN' });
			const unknownNetwork = await check(registered, { app: strict, ip: '10.0.0.1' });
			const known = await check(registered, { app: strict, ip: US_NETWORK, country: 'CN' });
			const other = await check(uniqueEmail('strict-other'), {
				app: strict,
				ip: US_NETWORK,
				country: 'CN'
			});
			expect(unknownNetwork.networkCountry).toBeNull();
			expect(known.networkCountry).toBe('US');
			// No warning before proof (strict hides ip_country_mismatch), registered or not.
			expect({ ...known, identifier: undefined }).toEqual({ ...other, identifier: undefined });
			expect(known).not.toHaveProperty('registered');
			expect(codes(known)).toEqual([]);
		});
	}
);
