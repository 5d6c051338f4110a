import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { softAuthenticator, type SoftAuthenticator } from '../support/two-step';

const ORIGIN = 'https://asc.example';
type Options = { challenge: string; rp: { id?: string }; rpId?: string };

describe.each(testDatabases)('passkeys (WebAuthn, verified server-side) on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open, { env: { ORIGIN } })));
	afterAll(() => database.dispose());

	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });

	const signedIn = () => signedInMember(app, 'passkey', { joinedNow: true });

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
		opts: {
			origin?: string;
			userVerified?: boolean;
			counter?: number;
			userHandle?: string | null;
		} = {}
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
		// Each attempt from its own browser: the challenge is the one that browser holds.
		const noUvJar: CookieJar = new Map();
		const unverified = await assertion(noUvJar, authenticator, { userVerified: false });
		const noUv = await callEndpoint(passkeySignIn, app, {
			json: { response: unverified.response },
			jar: noUvJar
		});
		expect([noUv.status, (await noUv.json()).error.code]).toEqual([400, 'passkey_invalid']);
		const foreignJar: CookieJar = new Map();
		const foreign = await assertion(foreignJar, authenticator, { origin: 'https://evil.example' });
		const wrongOrigin = await callEndpoint(passkeySignIn, app, {
			json: { response: foreign.response },
			jar: foreignJar
		});
		expect([wrongOrigin.status, (await wrongOrigin.json()).error.code]).toEqual([
			400,
			'passkey_invalid'
		]);
		const jar: CookieJar = new Map();
		const good = await assertion(jar, authenticator, { counter: 5 });
		expect(jar.has('passkey_challenge')).toBe(true);
		expect(
			(await callEndpoint(passkeySignIn, app, { json: { response: good.response }, jar })).status
		).toBe(201);
		expect((await me(jar)).status).toBe(200);
		expect(jar.has('passkey_challenge')).toBe(false);
		// A cloned authenticator replays an older counter.
		const clonedJar: CookieJar = new Map();
		const cloned = await assertion(clonedJar, authenticator, { counter: 3 });
		const old = await callEndpoint(passkeySignIn, app, {
			json: { response: cloned.response },
			jar: clonedJar
		});
		expect([old.status, (await old.json()).error.code]).toEqual([400, 'passkey_invalid']);
	});

	const anonymousOptions = (ip: string, jar: CookieJar = new Map()) =>
		callEndpoint(passkeyOptions, app, { json: {}, jar, clientAddress: ip });
	const challengeRows = async () =>
		Number(
			(
				await database.db
					.selectFrom('webauthn_challenges')
					.select((eb) => eb.fn.countAll<number>().as('n'))
					.executeTakeFirstOrThrow()
			).n
		);

	it('anonymous passkey options are limited per network (429 with Retry-After) and store no row; another network is unaffected', async () => {
		const rows = await challengeRows();
		const statuses: number[] = [];
		let retryAfter = 0;
		for (let i = 0; i < 100; i += 1) {
			const res = await anonymousOptions('198.51.100.7');
			statuses.push(res.status);
			if (res.status === 429) {
				expect((await res.json()).error.code).toBe('rate_limited');
				retryAfter = Number(res.headers.get('retry-after'));
			}
		}
		expect(statuses.slice(0, 60)).toEqual(Array(60).fill(200));
		expect(statuses.slice(60)).toEqual(Array(40).fill(429));
		expect(retryAfter).toBeGreaterThan(0);
		expect(await challengeRows()).toBe(rows);
		expect((await anonymousOptions('198.51.100.8')).status).toBe(200);
		// The window passes, the network may ask again.
		app.clock.advance(10 * 60_000);
		expect((await anonymousOptions('198.51.100.7')).status).toBe(200);
		expect(await challengeRows()).toBe(rows);
	});

	it('an IPv6 /64 counts as one network for passkey options; the next /64 is another', async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 61; i += 1)
			statuses.push((await anonymousOptions(`2001:db8:77:1::${(i + 1).toString(16)}`)).status);
		expect(statuses.slice(0, 60)).toEqual(Array(60).fill(200));
		expect(statuses[60]).toBe(429);
		expect((await anonymousOptions('2001:db8:77:1:ffff::1')).status).toBe(429);
		expect((await anonymousOptions('2001:db8:77:2::1')).status).toBe(200);
	});

	it('a pending sign-in keeps one passkey challenge, however often it asks for options', async () => {
		const person = await signedIn();
		await addPasskey(person.jar, softAuthenticator());
		const jar: CookieJar = new Map();
		await callEndpoint(signIn, app, {
			json: { identifier: person.email, password: PASSWORD },
			jar
		});
		for (let i = 0; i < 5; i += 1)
			expect((await callEndpoint(passkeyOptions, app, { json: {}, jar })).status).toBe(200);
		const rows = await database.db
			.selectFrom('webauthn_challenges')
			.select('id')
			.where('account_id', '=', person.id)
			.execute();
		expect(rows).toHaveLength(1);
	});

	it('a first-factor assertion is single use: replayed with the same sealed challenge it is refused, even by a passkey whose counter stays 0', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		await addPasskey(person.jar, authenticator);
		const jar: CookieJar = new Map();
		const { response } = await assertion(jar, authenticator, { counter: 0 });
		const sealed = jar.get('passkey_challenge')!;
		expect(sealed).toBeTruthy();
		const first = await callEndpoint(passkeySignIn, app, { json: { response }, jar });
		expect(first.status).toBe(201);
		// The cookie was cleared; an attacker who kept it sends it again with the same assertion.
		expect(jar.has('passkey_challenge')).toBe(false);
		const replay = await callEndpoint(passkeySignIn, app, {
			json: { response },
			jar: new Map([['passkey_challenge', sealed]])
		});
		expect([replay.status, (await replay.json()).error.code]).toEqual([400, 'passkey_invalid']);
		// Without the browser's cookie, or with another browser's, an assertion is refused too.
		const otherJar: CookieJar = new Map();
		const other = await assertion(otherJar, authenticator, { counter: 0 });
		const noCookie = await callEndpoint(passkeySignIn, app, {
			json: { response: other.response },
			jar: new Map()
		});
		expect(noCookie.status).toBe(400);
		const elsewhere: CookieJar = new Map();
		await anonymousOptions('203.0.113.9', elsewhere);
		const wrongCookie = await callEndpoint(passkeySignIn, app, {
			json: { response: other.response },
			jar: elsewhere
		});
		expect(wrongCookie.status).toBe(400);
		// An expired one (the ceremony has 5 minutes) is refused.
		const lateJar: CookieJar = new Map();
		const late = await assertion(lateJar, authenticator, { counter: 0 });
		app.clock.advance(5 * 60_000);
		const expired = await callEndpoint(passkeySignIn, app, {
			json: { response: late.response },
			jar: lateJar
		});
		expect(expired.status).toBe(400);
		// Replays raced at once: one session at most.
		const raceJar: CookieJar = new Map();
		const raced = await assertion(raceJar, authenticator, { counter: 0 });
		const cookie = raceJar.get('passkey_challenge')!;
		const answers = await Promise.all(
			Array.from({ length: 5 }, () =>
				callEndpoint(passkeySignIn, app, {
					json: { response: raced.response },
					jar: new Map([['passkey_challenge', cookie]])
				})
			)
		);
		expect(answers.map((r) => r.status).sort()).toEqual([201, 400, 400, 400, 400]);
	});

	it('WebAuthn §7.2 step 6: a passkey as the whole sign-in without a userHandle is refused; the same assertion with its handle signs in', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		await addPasskey(person.jar, authenticator);
		const bareJar: CookieJar = new Map();
		const bare = await assertion(bareJar, authenticator, { userHandle: null });
		expect((bare.response as { response: object }).response).not.toHaveProperty('userHandle');
		const refused = await callEndpoint(passkeySignIn, app, {
			json: { response: bare.response },
			jar: bareJar
		});
		expect([refused.status, (await refused.json()).error.code]).toEqual([400, 'passkey_invalid']);
		expect(bareJar.has('session')).toBe(false);
		// The software authenticator is discoverable: by default it sends the handle it registered.
		const jar: CookieJar = new Map();
		const good = await assertion(jar, authenticator);
		expect((good.response as { response: object }).response).toHaveProperty('userHandle');
		const signedInAgain = await callEndpoint(passkeySignIn, app, {
			json: { response: good.response },
			jar
		});
		expect(signedInAgain.status).toBe(201);
		expect((await me(jar)).status).toBe(200);
	});

	it('WebAuthn §7.2 step 6: an assertion whose userHandle is not the passkey’s account’s is refused; the registered one signs in', async () => {
		const person = await signedIn();
		const authenticator = softAuthenticator();
		const options = (await (
			await callEndpoint(registerOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			})
		).json()) as Options & { user: { id: string } };
		const registered = await callEndpoint(register, app, {
			json: { response: authenticator.register(options, ORIGIN) },
			jar: person.jar
		});
		expect(registered.status).toBe(201);
		const other = await signedIn();
		const otherOptions = (await (
			await callEndpoint(registerOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: other.jar
			})
		).json()) as { user: { id: string } };
		expect(otherOptions.user.id).not.toBe(options.user.id);

		const withHandle = (response: object, userHandle: string) => {
			const credential = response as { response: Record<string, string> };
			return { ...credential, response: { ...credential.response, userHandle } };
		};
		const wrongJar: CookieJar = new Map();
		const wrong = await assertion(wrongJar, authenticator);
		const refused = await callEndpoint(passkeySignIn, app, {
			json: { response: withHandle(wrong.response, otherOptions.user.id) },
			jar: wrongJar
		});
		expect([refused.status, (await refused.json()).error.code]).toEqual([400, 'passkey_invalid']);
		expect(wrongJar.has('session')).toBe(false);
		const rightJar: CookieJar = new Map();
		const right = await assertion(rightJar, authenticator);
		const signedInAgain = await callEndpoint(passkeySignIn, app, {
			json: { response: withHandle(right.response, options.user.id) },
			jar: rightJar
		});
		expect(signedInAgain.status).toBe(201);
		// A second passkey of the same account gets the same handle.
		const again = (await (
			await callEndpoint(registerOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			})
		).json()) as { user: { id: string } };
		expect(again.user.id).toBe(options.user.id);
	});
});
