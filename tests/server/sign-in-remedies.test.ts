import { render } from 'svelte/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSecureAccountLink } from '../../src/lib/server/accounts/secure-account';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import { completeSignIn } from '../../src/lib/server/two-step/second-factor';
import { readPendingSignIn } from '../../src/lib/server/two-step/pending';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as changePassword } from '../../src/routes/api/v1/account/password/+server';
import { POST as registerPasskeyOptions } from '../../src/routes/api/v1/account/two-factor/passkeys/options/+server';
import { POST as registerPasskey } from '../../src/routes/api/v1/account/two-factor/passkeys/+server';
import { POST as resetRequest } from '../../src/routes/api/v1/password-resets/+server';
import { POST as resetConfirm } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as secure } from '../../src/routes/api/v1/secure-account/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as passkeyOptions } from '../../src/routes/api/v1/sessions/passkey/options/+server';
import { POST as passkeySignIn } from '../../src/routes/api/v1/sessions/passkey/+server';
import { POST as secondFactor } from '../../src/routes/api/v1/sessions/second-factor/+server';
import { actions as loginPage } from '../../src/routes/login/+page.server';
import LoginPage from '../../src/routes/login/+page.svelte';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { appCode, softAuthenticator, type SoftAuthenticator } from '../support/two-step';
import { setUpTotp } from '../support/totp-setup';

/**
 * The owner's remedies at sign-in (rules §7a, §7b, R18): a password change, a finished password
 * reset and "this wasn't me" end a half-finished two-step sign-in as they end sessions; a frozen
 * account lets no sign-in finish.
 */

const NEW_PASSWORD = 'an entirely new long sentence';
const ORIGIN = 'https://asc.example';
let address = 0;
const nextAddress = () => `1.0.3.${(address++ % 250) + 1}`;
type Options = { challenge: string; rp: { id?: string }; rpId?: string };

describe.each(testDatabases)('the owner’s remedies end sign-ins on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let passwordHash: string;
	beforeAll(async () => {
		({ database, app } = await openTestApp(open, { env: { ORIGIN } }));
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(() => database.dispose());

	const signInAs = (identifier: string, password: string, jar: CookieJar) =>
		callEndpoint(signIn, app, {
			json: { identifier, password },
			jar,
			clientAddress: nextAddress()
		});
	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const sendCode = (code: string, jar: CookieJar) =>
		callEndpoint(secondFactor, app, { json: { code }, jar, clientAddress: nextAddress() });
	const errorOf = async (res: Response) => [res.status, (await res.json()).error?.code];

	/** A signed-in owner with TOTP on: the owner's browser, the secret and the recovery codes. */
	async function ownerWithTotp() {
		const owner = await signedInMember(app, 'remedy', {
			joinedNow: true,
			clientAddress: nextAddress()
		});
		const { secret, recoveryCodes } = await setUpTotp(app, owner.jar);
		return { ...owner, secret, recoveryCodes };
	}
	type Owner = Awaited<ReturnType<typeof ownerWithTotp>>;

	/** An intruder who knows the password: past the password step, waiting for a second factor. */
	async function intruderPastPassword(email: string) {
		const jar: CookieJar = new Map();
		const res = await signInAs(email, PASSWORD, jar);
		expect(res.status).toBe(202);
		expect(jar.has('pending_sign_in')).toBe(true);
		return jar;
	}

	const remedies: [string, (owner: Owner) => Promise<void>][] = [
		[
			'a password change (R5)',
			async (owner) => {
				const res = await callEndpoint(changePassword, app, {
					json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
					jar: owner.jar
				});
				expect(res.status).toBe(204);
			}
		],
		[
			'a finished password reset (R18)',
			async (owner) => {
				app.clock.advance(1_000);
				const asked = await callEndpoint(resetRequest, app, {
					json: { identifier: owner.email },
					clientAddress: nextAddress()
				});
				expect(asked.status).toBe(202);
				const code = await latestCode(database.db, owner.email);
				const done = await callEndpoint(resetConfirm, app, {
					json: { identifier: owner.email, code, newPassword: NEW_PASSWORD },
					clientAddress: nextAddress()
				});
				expect(done.status).toBe(204);
			}
		],
		[
			'"this wasn\'t me" (§7a)',
			async (owner) => {
				const token = new URL(await issueSecureAccountLink(app, owner.id, ORIGIN)).searchParams.get(
					'token'
				)!;
				const res = await callEndpoint(secure, app, { json: { token }, jar: new Map() });
				expect(res.status).toBe(200);
			}
		]
	];

	describe.each(remedies)('after %s', (_name, remedy) => {
		it('an intruder past the password step cannot finish with a TOTP code: second_factor_expired', async () => {
			const owner = await ownerWithTotp();
			const intruder = await intruderPastPassword(owner.email);
			await remedy(owner);
			const res = await sendCode(appCode(owner.secret, app.clock), intruder);
			expect(await errorOf(res)).toEqual([401, 'second_factor_expired']);
			expect((await me(intruder)).status).toBe(401);
		});

		it('an intruder past the password step cannot finish with a recovery code: second_factor_expired', async () => {
			const owner = await ownerWithTotp();
			const intruder = await intruderPastPassword(owner.email);
			await remedy(owner);
			const res = await sendCode(owner.recoveryCodes[0]!, intruder);
			expect(await errorOf(res)).toEqual([401, 'second_factor_expired']);
			expect((await me(intruder)).status).toBe(401);
		});

		it('an intruder who had already read the pending sign-in (the race) cannot finish it', async () => {
			const owner = await ownerWithTotp();
			const intruder = await intruderPastPassword(owner.email);
			const pending = await readPendingSignIn(app, intruder.get('pending_sign_in')!);
			expect(pending).not.toBeNull();
			await remedy(owner);
			const meta: RequestMeta = {
				ip: nextAddress(),
				ipCountry: null,
				deviceId: 'intruder-device',
				locale: 'en',
				userAgent: null
			};
			expect(await completeSignIn(app, pending!, 'totp', meta)).toMatchObject({
				ok: false,
				code: 'second_factor_expired'
			});
		});
	});

	async function addPasskey(jar: CookieJar, authenticator: SoftAuthenticator) {
		const options = await callEndpoint(registerPasskeyOptions, app, {
			json: { currentPassword: PASSWORD },
			jar
		});
		const response = authenticator.register((await options.json()) as Options, ORIGIN);
		const res = await callEndpoint(registerPasskey, app, { json: { response, name: 'Key' }, jar });
		expect(res.status).toBe(201);
	}

	it.each(remedies)(
		'after %s an intruder past the password step cannot finish with a passkey as second factor',
		async (_name, remedy) => {
			const owner = await ownerWithTotp();
			const authenticator = softAuthenticator();
			await addPasskey(owner.jar, authenticator);
			const intruder = await intruderPastPassword(owner.email);
			// The intruder had the assertion options (bound to the pending sign-in) before the remedy.
			const opts = await callEndpoint(passkeyOptions, app, { json: {}, jar: intruder });
			const options = (await opts.json()) as Options;
			await remedy(owner);
			const response = authenticator.assert(options, ORIGIN);
			const res = await callEndpoint(passkeySignIn, app, { json: { response }, jar: intruder });
			// The challenge was bound to the pending sign-in, which is gone.
			expect(await errorOf(res)).toEqual([400, 'passkey_invalid']);
			expect((await me(intruder)).status).toBe(401);
		}
	);

	it('the remedy ends the pending sign-in where it ends sessions: no pending row is left for the account', async () => {
		const owner = await ownerWithTotp();
		await intruderPastPassword(owner.email);
		await remedies[0]![1](owner);
		const left = await database.db
			.selectFrom('pending_sign_ins')
			.select('id')
			.where('account_id', '=', owner.id)
			.execute();
		expect(left).toEqual([]);
	});

	describe('§7b frozen accounts', () => {
		const freeze = (id: string) =>
			database.db
				.updateTable('accounts')
				.set({ frozen_at: app.clock.now().getTime() })
				.where('id', '=', id)
				.execute();

		it('the right password answers 403 account_frozen and starts no session', async () => {
			const email = uniqueEmail('frozen');
			const row = await insertAccount(database.db, { email, password_hash: passwordHash });
			await freeze(row.id);
			const jar: CookieJar = new Map();
			const res = await signInAs(email, PASSWORD, jar);
			const body = await res.json();
			expect([res.status, body.error.code]).toEqual([403, 'account_frozen']);
			expect(body.error.message).toContain('frozen');
			expect(jar.has('session')).toBe(false);
			expect(jar.has('pending_sign_in')).toBe(false);
		});

		it('a wrong password answers exactly as for an unknown identifier and any other account', async () => {
			const email = uniqueEmail('frozen');
			const row = await insertAccount(database.db, { email, password_hash: passwordHash });
			await freeze(row.id);
			const frozen = await signInAs(email, 'not the password', new Map());
			const unknown = await signInAs(uniqueEmail('nobody'), 'not the password', new Map());
			expect(frozen.status).toBe(401);
			expect([frozen.status, await frozen.json()]).toEqual([unknown.status, await unknown.json()]);
		});

		it('a second step started before the freeze cannot finish (TOTP)', async () => {
			const owner = await ownerWithTotp();
			const intruder = await intruderPastPassword(owner.email);
			await freeze(owner.id);
			const res = await sendCode(appCode(owner.secret, app.clock), intruder);
			expect(await errorOf(res)).toEqual([403, 'account_frozen']);
			expect((await me(intruder)).status).toBe(401);
		});

		it('a passkey alone (first factor) cannot sign in to a frozen account', async () => {
			const owner = await ownerWithTotp();
			const authenticator = softAuthenticator();
			await addPasskey(owner.jar, authenticator);
			await freeze(owner.id);
			const jar: CookieJar = new Map();
			const opts = await callEndpoint(passkeyOptions, app, { json: {}, jar });
			const response = authenticator.assert((await opts.json()) as Options, ORIGIN);
			const res = await callEndpoint(passkeySignIn, app, { json: { response }, jar });
			expect(await errorOf(res)).toEqual([400, 'passkey_invalid']);
			expect((await me(jar)).status).toBe(401);
		});

		it('the login page (form action, JavaScript off) shows the frozen message', async () => {
			const email = uniqueEmail('frozen');
			const row = await insertAccount(database.db, { email, password_hash: passwordHash });
			await freeze(row.id);
			const result = await callEndpoint(loginPage.signIn!, app, {
				body: new URLSearchParams({ identifier: email, password: PASSWORD }),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				clientAddress: nextAddress()
			});
			expect(result).toMatchObject({
				status: 403,
				data: {
					identifier: email,
					error: { code: 'account_frozen', message: expect.stringContaining('frozen') }
				}
			});
			// With JavaScript off the browser gets the page rendered on the server with that answer.
			const { data: form } = result as { data: Record<string, unknown> };
			const page = render(LoginPage, {
				props: {
					data: { countries: ['CN'], ipCountry: null, secondFactor: null },
					form
				} as never
			});
			expect(page.body).toMatch(
				/<p id="login-error" class="error" role="alert" data-code="account_frozen">This account is frozen\./
			);
		});
	});
});
