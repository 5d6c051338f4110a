import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import {
	GET as listPasskeys,
	POST as register
} from '../../src/routes/api/v1/account/two-factor/passkeys/+server';
import { POST as registerOptions } from '../../src/routes/api/v1/account/two-factor/passkeys/options/+server';
import {
	DELETE as removePasskey,
	PATCH as renamePasskey
} from '../../src/routes/api/v1/account/two-factor/passkeys/[id]/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as passkeyOptions } from '../../src/routes/api/v1/sessions/passkey/options/+server';
import { POST as passkeySignIn } from '../../src/routes/api/v1/sessions/passkey/+server';
import { twoStepSummary } from '../../src/lib/server/two-step';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { softAuthenticator, type SoftAuthenticator } from '../support/two-step';

const PASSWORD = 'a long and quiet river';
const ORIGIN = 'https://asc.example';
type Options = { challenge: string; rp: { id?: string }; rpId?: string };

describe.each(testDatabases)('passkeys (WebAuthn, verified server-side) on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let passwordHash: string;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { ORIGIN } });
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(() => database.dispose());

	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });

	async function signedIn() {
		const email = uniqueEmail('passkey');
		const row = await insertAccount(database.db, {
			email,
			password_hash: passwordHash,
			created_at: app.clock.now().getTime()
		});
		const jar: CookieJar = new Map();
		const res = await callEndpoint(signIn, app, {
			json: { identifier: email, password: PASSWORD },
			jar
		});
		expect(res.status).toBe(201);
		return { email, id: row.id, jar };
	}

	async function addPasskey(jar: CookieJar, authenticator: SoftAuthenticator, origin = ORIGIN) {
		const options = await callEndpoint(registerOptions, app, {
			json: { currentPassword: PASSWORD },
			jar
		});
		expect(options.status).toBe(200);
		const json = (await options.json()) as Options & {
			authenticatorSelection: { residentKey: string };
		};
		expect(json.rp.id).toBe('asc.example');
		expect(json.authenticatorSelection.residentKey).toBe('required');
		const response = authenticator.register(json, origin);
		return callEndpoint(register, app, { json: { response, name: 'Laptop' }, jar });
	}

	async function assertion(
		jar: CookieJar,
		authenticator: SoftAuthenticator,
		opts: { origin?: string; userVerified?: boolean; counter?: number } = {}
	) {
		const res = await callEndpoint(passkeyOptions, app, { json: {}, jar });
		expect(res.status).toBe(200);
		const options = (await res.json()) as Options;
		expect(options.rpId).toBe('asc.example');
		return {
			options,
			response: authenticator.assert(options, opts.origin ?? ORIGIN, opts)
		};
	}

	it('registers, lists, renames and removes a passkey; the challenge is stored hashed and single use', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		const added = await addPasskey(person.jar, authenticator);
		expect(added.status).toBe(201);
		expect((await added.json()).passkey).toMatchObject({
			id: authenticator.credentialId,
			name: 'Laptop'
		});
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: true, passkeys: 1 });
		const list = await callEndpoint(listPasskeys, app, { method: 'GET', jar: person.jar });
		expect((await list.json()).passkeys).toEqual([
			expect.objectContaining({ id: authenticator.credentialId, name: 'Laptop', lastUsedAt: null })
		]);
		const path = `/api/v1/account/two-factor/passkeys/${authenticator.credentialId}`;
		const renamed = await callEndpoint(renamePasskey, app, {
			method: 'PATCH',
			path,
			json: { name: 'Work laptop' },
			jar: person.jar
		});
		expect(renamed.status).toBe(200);
		const wrong = await callEndpoint(removePasskey, app, {
			method: 'DELETE',
			path,
			json: { currentPassword: 'not the password' },
			jar: person.jar
		});
		expect(wrong.status).toBe(403);
		const removed = await callEndpoint(removePasskey, app, {
			method: 'DELETE',
			path,
			json: { currentPassword: PASSWORD },
			jar: person.jar
		});
		expect(removed.status).toBe(204);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: false, passkeys: 0 });
	});

	it('a registration is refused for a challenge replayed, from another origin, or never issued', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		const options = (await (
			await callEndpoint(registerOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			})
		).json()) as Options;
		const foreign = authenticator.register(options, 'https://evil.example');
		const refused = await callEndpoint(register, app, {
			json: { response: foreign },
			jar: person.jar
		});
		expect([refused.status, (await refused.json()).error.code]).toEqual([400, 'passkey_invalid']);
		// The challenge was taken by that attempt: the right origin now finds it gone.
		const late = authenticator.register(options, ORIGIN);
		expect(
			(await callEndpoint(register, app, { json: { response: late }, jar: person.jar })).status
		).toBe(400);
		const invented = authenticator.register({ ...options, challenge: 'aW52ZW50ZWQ' }, ORIGIN);
		expect(
			(await callEndpoint(register, app, { json: { response: invented }, jar: person.jar })).status
		).toBe(400);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: false, passkeys: 0 });
		// Options need the password again.
		const noPassword = await callEndpoint(registerOptions, app, {
			json: { currentPassword: 'nope nope nope' },
			jar: person.jar
		});
		expect(noPassword.status).toBe(403);
	});

	it('a passkey is the second factor: password → 202, assertion → 201 and a session', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		expect((await addPasskey(person.jar, authenticator)).status).toBe(201);
		const jar: CookieJar = new Map();
		const res = await callEndpoint(signIn, app, {
			json: { identifier: person.email, password: PASSWORD },
			jar
		});
		expect(res.status).toBe(202);
		expect((await res.json()).secondFactor.methods).toEqual(['passkey']);
		const { options, response } = await assertion(jar, authenticator);
		expect((options as unknown as { allowCredentials: { id: string }[] }).allowCredentials).toEqual(
			[expect.objectContaining({ id: authenticator.credentialId })]
		);
		const done = await callEndpoint(passkeySignIn, app, { json: { response }, jar });
		expect(done.status).toBe(201);
		expect((await me(jar)).status).toBe(200);
		// The same assertion again (a replay) opens nothing.
		const replay = await callEndpoint(passkeySignIn, app, { json: { response }, jar: new Map() });
		expect([replay.status, (await replay.json()).error.code]).toEqual([400, 'passkey_invalid']);
	});

	it('as a second factor a passkey of another account is refused', async () => {
		const owner = await signedIn();
		const other = await signedIn();
		const ownerKey = softAuthenticator();
		const otherKey = softAuthenticator();
		await addPasskey(owner.jar, ownerKey);
		await addPasskey(other.jar, otherKey);
		const jar: CookieJar = new Map();
		await callEndpoint(signIn, app, { json: { identifier: owner.email, password: PASSWORD }, jar });
		const { response } = await assertion(jar, otherKey);
		const refused = await callEndpoint(passkeySignIn, app, { json: { response }, jar });
		expect([refused.status, (await refused.json()).error.code]).toEqual([400, 'passkey_invalid']);
		expect(jar.has('session')).toBe(false);
	});

	it('a discoverable passkey with user verification is a first factor; without verification, a wrong origin or an old counter it is refused', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		await addPasskey(person.jar, authenticator);
		const unverified = await assertion(new Map(), authenticator, { userVerified: false });
		const noUv = await callEndpoint(passkeySignIn, app, {
			json: { response: unverified.response }
		});
		expect([noUv.status, (await noUv.json()).error.code]).toEqual([400, 'passkey_invalid']);
		const foreign = await assertion(new Map(), authenticator, { origin: 'https://evil.example' });
		const wrongOrigin = await callEndpoint(passkeySignIn, app, {
			json: { response: foreign.response }
		});
		expect([wrongOrigin.status, (await wrongOrigin.json()).error.code]).toEqual([
			400,
			'passkey_invalid'
		]);
		const jar: CookieJar = new Map();
		const good = await assertion(jar, authenticator, { counter: 5 });
		expect(
			(await callEndpoint(passkeySignIn, app, { json: { response: good.response }, jar })).status
		).toBe(201);
		expect((await me(jar)).status).toBe(200);
		// A cloned authenticator replays an older counter.
		const cloned = await assertion(new Map(), authenticator, { counter: 3 });
		const old = await callEndpoint(passkeySignIn, app, { json: { response: cloned.response } });
		expect([old.status, (await old.json()).error.code]).toEqual([400, 'passkey_invalid']);
	});
});
