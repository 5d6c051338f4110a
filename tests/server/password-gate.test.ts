import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmCurrentPassword } from '../../src/lib/server/accounts';
import type { Account } from '../../src/lib/server/db/schema';
import {
	DELETE as totpOff,
	POST as totpStart
} from '../../src/routes/api/v1/account/two-factor/totp/+server';
import { POST as totpConfirm } from '../../src/routes/api/v1/account/two-factor/totp/confirm/+server';
import { POST as passkeyRegisterOptions } from '../../src/routes/api/v1/account/two-factor/passkeys/options/+server';
import { POST as passkeyRegister } from '../../src/routes/api/v1/account/two-factor/passkeys/+server';
import {
	DELETE as passkeyRemove,
	PATCH as passkeyRename
} from '../../src/routes/api/v1/account/two-factor/passkeys/[id]/+server';
import { POST as contactChangeStart } from '../../src/routes/api/v1/account/contact-changes/+server';
import { twoStepSummary } from '../../src/lib/server/two-step';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { appCode, softAuthenticator } from '../support/two-step';

const ORIGIN = 'https://asc.example';
const PAUSE_MS = 15 * 60_000;
let address = 0;
const nextAddress = () => `1.0.3.${(address++ % 250) + 1}`;

describe.each(testDatabases)('the current-password gate (R16, §7b) on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open, { env: { ORIGIN } })));
	afterAll(() => database.dispose());

	const signedIn = () =>
		signedInMember(app, 'gate', { joinedNow: true, clientAddress: nextAddress() });

	const accountRow = async (id: string) =>
		(await database.db
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', id)
			.executeTakeFirstOrThrow()) as Account;

	type Init = { json: unknown; jar: CookieJar; clientAddress: string };
	/** Each endpoint that asks for the current password, with the body that carries it. */
	const forms = [
		{
			name: 'two-step set-up (POST /api/v1/account/two-factor/totp)',
			send: (init: Init) => callEndpoint(totpStart, app, init),
			body: (currentPassword: string) => ({ currentPassword }),
			okStatus: 200
		},
		{
			name: 'passkey options (POST /api/v1/account/two-factor/passkeys/options)',
			send: (init: Init) => callEndpoint(passkeyRegisterOptions, app, init),
			body: (currentPassword: string) => ({ currentPassword }),
			okStatus: 200
		},
		{
			name: 'contact-change start (POST /api/v1/account/contact-changes)',
			send: (init: Init) => callEndpoint(contactChangeStart, app, init),
			body: (currentPassword: string) => ({
				currentPassword,
				newIdentifier: uniqueEmail('gate-new')
			}),
			okStatus: 202
		}
	];

	for (const form of forms) {
		it(`R16: 40 wrong passwords sent at once to the ${form.name} → at most 5 evaluated, the rest 429 with Retry-After; then a 15-minute pause even for the right one`, async () => {
			const person = await signedIn();
			const call = (password: string) =>
				form.send({
					json: form.body(password),
					jar: person.jar,
					clientAddress: nextAddress()
				});
			const answers = await Promise.all(
				Array.from({ length: 40 }, (_, i) => call(`wrong password number ${i}`))
			);
			const evaluated = answers.filter((r) => r.status === 403);
			const limited = answers.filter((r) => r.status === 429);
			expect(evaluated.length).toBeGreaterThanOrEqual(1);
			expect(evaluated.length).toBeLessThanOrEqual(5);
			expect(evaluated.length + limited.length).toBe(40);
			for (const answer of evaluated)
				expect((await answer.json()).error.code).toBe('invalid_credentials');
			for (const answer of limited) {
				expect((await answer.json()).error.code).toBe('rate_limited');
				expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
			}

			// Five wrong ones in all: the right password waits out the pause too.
			const sequential = 5 - evaluated.length;
			for (let i = 0; i < sequential; i += 1)
				expect((await call(`one more wrong ${i}`)).status).toBe(403);
			const paused = await call(PASSWORD);
			expect([paused.status, (await paused.json()).error.code]).toEqual([429, 'rate_limited']);
			const retryAfter = Number(paused.headers.get('retry-after'));
			expect(retryAfter).toBeGreaterThan(PAUSE_MS / 1000 - 60);
			expect(retryAfter).toBeLessThanOrEqual(PAUSE_MS / 1000);
			app.clock.advance(PAUSE_MS - 1_000);
			expect((await call(PASSWORD)).status).toBe(429);
			app.clock.advance(1_000);
			expect((await call(PASSWORD)).status).toBe(form.okStatus);
		});
	}

	it('R16: right passwords one after another are never paused (a success takes its own count back)', async () => {
		const person = await signedIn();
		for (let i = 0; i < 8; i += 1) {
			const res = await callEndpoint(totpStart, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			});
			expect(res.status).toBe(200);
		}
	});

	for (const form of ['freeze', 'recovery-cancel'] as const) {
		it(`the ${form} form: 40 wrong passwords at once → at most 5 evaluated; it stays open while frozen (§7b)`, async () => {
			const person = await signedIn();
			await database.db
				.updateTable('accounts')
				.set({ frozen_at: app.clock.now().getTime() })
				.where('id', '=', person.id)
				.execute();
			const account = await accountRow(person.id);
			expect(await confirmCurrentPassword(app, account, PASSWORD, form)).toBeNull();
			const answers = await Promise.all(
				Array.from({ length: 40 }, (_, i) =>
					confirmCurrentPassword(app, account, `wrong ${i}`, form)
				)
			);
			const evaluated = answers.filter((a) => a?.code === 'invalid_credentials');
			expect(evaluated.length).toBeGreaterThanOrEqual(1);
			expect(evaluated.length).toBeLessThanOrEqual(5);
			expect(answers.filter((a) => a?.code === 'rate_limited').length).toBe(40 - evaluated.length);
		});
	}

	it('§7b: a frozen account answers 403 account_frozen to every two-step change; nothing changes', async () => {
		const person = await signedIn();
		// TOTP on and one passkey before the freeze.
		const started = await callEndpoint(totpStart, app, {
			json: { currentPassword: PASSWORD },
			jar: person.jar
		});
		const { secret } = (await started.json()) as { secret: string };
		expect(
			(
				await callEndpoint(totpConfirm, app, {
					json: { code: appCode(secret, app.clock) },
					jar: person.jar
				})
			).status
		).toBe(201);
		app.clock.advance(30_000);
		const authenticator = softAuthenticator();
		const options = await callEndpoint(passkeyRegisterOptions, app, {
			json: { currentPassword: PASSWORD },
			jar: person.jar
		});
		const creation = (await options.json()) as { challenge: string; rp: { id?: string } };
		expect(
			(
				await callEndpoint(passkeyRegister, app, {
					json: { response: authenticator.register(creation, ORIGIN) },
					jar: person.jar
				})
			).status
		).toBe(201);
		// Options for a second passkey, asked for before the freeze, finished after it.
		const second = softAuthenticator();
		const pendingOptions = (await (
			await callEndpoint(passkeyRegisterOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			})
		).json()) as { challenge: string; rp: { id?: string } };

		await database.db
			.updateTable('accounts')
			.set({ frozen_at: app.clock.now().getTime() })
			.where('id', '=', person.id)
			.execute();
		const before = await twoStepSummary(app, person.id);
		const path = `/api/v1/account/two-factor/passkeys/${authenticator.credentialId}`;
		const attempts: [string, () => Promise<Response>][] = [
			[
				'TOTP set-up',
				() => callEndpoint(totpStart, app, { json: { currentPassword: PASSWORD }, jar: person.jar })
			],
			[
				'TOTP confirm (recovery codes)',
				() =>
					callEndpoint(totpConfirm, app, {
						json: { code: appCode(secret, app.clock) },
						jar: person.jar
					})
			],
			[
				'TOTP off',
				() =>
					callEndpoint(totpOff, app, {
						method: 'DELETE',
						json: { currentPassword: PASSWORD, code: appCode(secret, app.clock) },
						jar: person.jar
					})
			],
			[
				'passkey options',
				() =>
					callEndpoint(passkeyRegisterOptions, app, {
						json: { currentPassword: PASSWORD },
						jar: person.jar
					})
			],
			[
				'passkey add',
				() =>
					callEndpoint(passkeyRegister, app, {
						json: { response: second.register(pendingOptions, ORIGIN) },
						jar: person.jar
					})
			],
			[
				'passkey rename',
				() =>
					callEndpoint(passkeyRename, app, {
						method: 'PATCH',
						path,
						json: { name: 'Renamed' },
						jar: person.jar
					})
			],
			[
				'passkey remove',
				() =>
					callEndpoint(passkeyRemove, app, {
						method: 'DELETE',
						path,
						json: { currentPassword: PASSWORD },
						jar: person.jar
					})
			]
		];
		for (const [name, attempt] of attempts) {
			const res = await attempt();
			expect([name, res.status, (await res.json()).error.code]).toEqual([
				name,
				403,
				'account_frozen'
			]);
		}
		expect(await twoStepSummary(app, person.id)).toEqual(before);
		expect(before).toEqual({ twoStep: true, passkeys: 1 });
	});
});
