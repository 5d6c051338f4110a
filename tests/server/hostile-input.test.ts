import type { RequestEvent } from '@sveltejs/kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as check } from '../../src/routes/api/v1/check/+server';
import { POST as registrations } from '../../src/routes/api/v1/registrations/+server';
import { POST as registrationConfirm } from '../../src/routes/api/v1/registrations/confirm/+server';
import { POST as sessions } from '../../src/routes/api/v1/sessions/+server';
import { POST as verifications } from '../../src/routes/api/v1/verifications/+server';
import { POST as verificationConfirm } from '../../src/routes/api/v1/verifications/confirm/+server';
import { POST as resets } from '../../src/routes/api/v1/password-resets/+server';
import { POST as resetConfirm } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint } from '../support/endpoints';

/**
 * Hostile input against every public JSON endpoint: each gets a 4xx with a stable error code,
 * never a 5xx, and nothing is stored (no account, code or message).
 */
type Handler = (event: RequestEvent) => Response | Promise<Response>;
const endpoints: [string, Handler, Record<string, unknown>][] = [
	['check', check as Handler, { identifier: 'a@example.com' }],
	[
		'registrations',
		registrations as Handler,
		{ identifier: 'a@example.com', password: 'a long and quiet river', country: 'CN' }
	],
	[
		'registrations/confirm',
		registrationConfirm as Handler,
		{ identifier: 'a@example.com', code: '123456' }
	],
	['sessions', sessions as Handler, { identifier: 'a@example.com', password: 'whatever password' }],
	['verifications', verifications as Handler, { identifier: 'a@example.com', purpose: 'check' }],
	[
		'verifications/confirm',
		verificationConfirm as Handler,
		{ identifier: 'a@example.com', purpose: 'check', code: '123456' }
	],
	['password-resets', resets as Handler, { identifier: 'a@example.com' }],
	[
		'password-resets/confirm',
		resetConfirm as Handler,
		{ identifier: 'a@example.com', code: '123456', newPassword: 'a long and quiet river' }
	]
];

const hostileIdentifiers = [
	'a@x.com\r\nBcc: victim@y.com',
	'a@x.com%0d%0aBcc:victim@y.com',
	'a@x.com,b@y.com',
	'a@x.com;b@y.com',
	'jo\u200bhn@example.com',
	'\u202eexample.com@a',
	'x'.repeat(1_000_000),
	'a\u0000@x.com',
	'<script>alert(1)</script>@x.com',
	"' or 1=1 --@x.com",
	'+86 138 0013 8000 ext. 5',
	'',
	'   '
];

describe.each(testDatabases)('hostile input on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, {
			env: { CHECK_RATE_LIMIT_PER_IP: '100000', CHECK_RATE_LIMIT_PER_IDENTIFIER: '100000' }
		});
	});
	afterAll(() => database.dispose());

	async function nothingStored() {
		const counts = await Promise.all(
			(['accounts', 'verification_codes', 'outbox', 'sessions'] as const).map(async (t) =>
				Number(
					(
						await database.db
							.selectFrom(t)
							.select((eb) => eb.fn.countAll<number>().as('n'))
							.executeTakeFirstOrThrow()
					).n
				)
			)
		);
		expect(counts).toEqual([0, 0, 0, 0]);
	}
	async function expectClientError(res: Response) {
		expect(res.status).toBeGreaterThanOrEqual(400);
		expect(res.status).toBeLessThan(500);
		const body = await res.json();
		expect(body.error.code).toMatch(/^[a-z_]+$/);
		expect(typeof body.error.message).toBe('string');
	}

	for (const [name, handler, valid] of endpoints) {
		describe(name, () => {
			it('refuses hostile identifiers with a stable code', async () => {
				for (const identifier of hostileIdentifiers) {
					await expectClientError(
						await callEndpoint(handler, app, { json: { ...valid, identifier } })
					);
				}
				await nothingStored();
			});

			it('refuses unknown fields, arrays, objects and duplicated keys where one value is expected', async () => {
				const bodies = [
					{ ...valid, isAdmin: true },
					{ ...valid, identifier: ['a@example.com', 'b@example.com'] },
					{ ...valid, identifier: { $ne: null } },
					{ ...valid, identifier: 42 }
				];
				for (const json of bodies)
					await expectClientError(await callEndpoint(handler, app, { json }));
				// A real "__proto__" key, as JSON.parse makes it: refused as unknown, nothing polluted.
				const proto = `{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`;
				await expectClientError(
					await callEndpoint(handler, app, {
						body: proto,
						headers: { 'content-type': 'application/json' }
					})
				);
				const duplicated = `{"identifier":"a@example.com","identifier":"b@example.com",${JSON.stringify(valid).slice(1)}`;
				// JSON keeps the last duplicate; what matters is that it is parsed once and never 5xx.
				const res = await callEndpoint(handler, app, {
					body: duplicated,
					headers: { 'content-type': 'application/json' }
				});
				expect(res.status).toBeLessThan(500);
				expect({} as Record<string, unknown>).not.toHaveProperty('polluted');
				await database.db.deleteFrom('verification_codes').execute();
				await database.db.deleteFrom('outbox').execute();
				await database.db.deleteFrom('sessions').execute();
			});

			it('refuses non-JSON, text/plain JSON, invalid UTF-8 and deep nesting', async () => {
				await expectClientError(
					await callEndpoint(handler, app, {
						body: JSON.stringify(valid),
						headers: { 'content-type': 'text/plain' }
					})
				);
				await expectClientError(
					await callEndpoint(handler, app, {
						body: 'identifier=a%40example.com',
						headers: { 'content-type': 'application/x-www-form-urlencoded' }
					})
				);
				await expectClientError(
					await callEndpoint(handler, app, {
						body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
						headers: { 'content-type': 'application/json' }
					})
				);
				const deep = '{"identifier":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
				await expectClientError(
					await callEndpoint(handler, app, {
						body: deep,
						headers: { 'content-type': 'application/json' }
					})
				);
				await expectClientError(
					await callEndpoint(handler, app, {
						body: '[]',
						headers: { 'content-type': 'application/json' }
					})
				);
				await nothingStored();
			});
		});
	}

	it('fuzz: arbitrary JSON values in every field never cause a 5xx', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...endpoints),
				fc.dictionary(
					fc.constantFrom(
						'identifier',
						'password',
						'code',
						'country',
						'purpose',
						'newPassword',
						'x'
					),
					fc.jsonValue(),
					{ maxKeys: 5 }
				),
				async ([, handler], json) => {
					const res = await callEndpoint(handler, app, { json });
					expect(res.status).toBeLessThan(500);
				}
			),
			{ numRuns: 150 }
		);
	});
});
