import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { openDatabase } from '../../src/lib/server/db/database';
import { OPERATIONS } from '../../src/lib/server/http/openapi-operations';
import { testAppContext } from '../support/app-context';
import { appealForm, defaultDocuments, fileAppeal, nextAddress } from '../support/appeals';
import { latestCode, latestMessage } from '../support/codes';
import { testDatabases, type TestDatabase } from '../support/databases';
import { fileOf } from '../support/documents';
import type { CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { API_ROUTE_PATHS, apiFetch, Contract, ENDPOINT_ORIGIN } from '../support/openapi';
import { appCode, softAuthenticator } from '../support/two-step';

const PASSWORD = 'a long and quiet river';
const NEW_PASSWORD = 'another calm and long sentence';
const ORIGIN = 'https://asc.example';
const INTERNAL_TOKEN = 'internal-token-of-at-least-32-characters';
const HOUR = 3_600_000;

/**
 * Answers the contract does not drive, each with the reason. Everything else the document names
 * (every status of every operation) is answered for real below and validated against it.
 */
const NOT_DRIVEN: Record<string, string> = {
	'POST /api/v1/registrations/confirm 401':
		'a remedy ran between the account being created and its first session (a race)',
	'POST /api/v1/sessions/second-factor 403':
		'a freeze ends pending sign-ins (§7b), so only a freeze racing the code step answers it',
	'POST /api/v1/sessions/passkey 403': 'as the second-factor step: a freeze racing the passkey step',
	'POST /api/v1/sessions/passkey 401': 'a pending sign-in ended while its passkey step runs',
	'POST /api/v1/verifications/freeze 404':
		'needs a check grant for an identifier no account has, which no code can give',
	'POST /api/v1/appeals 503': 'the upload buffer or the document pool full (upload-budget tests)',
	'POST /api/v1/appeals 413': 'a multipart body over 15 MB (upload-attacks and body-limit tests)'
};

const someone = { identifier: 'someone@example.com' };
/** Bodies that pass each schema, to reach the database that does not answer. */
const UNAVAILABLE_BODIES: Record<string, unknown> = {
	'POST /api/v1/check': someone,
	'POST /api/v1/verifications': { ...someone, purpose: 'check' },
	'POST /api/v1/verifications/confirm': { ...someone, purpose: 'check', code: '000000' },
	'POST /api/v1/registrations': { ...someone, password: PASSWORD, country: 'CN' },
	'POST /api/v1/registrations/resend': someone,
	'POST /api/v1/registrations/confirm': { ...someone, code: '000000' },
	'POST /api/v1/sessions': { ...someone, password: PASSWORD },
	'POST /api/v1/sessions/second-factor': { code: '000000' },
	'POST /api/v1/sessions/passkey': {
		response: {
			id: 'AAAA',
			rawId: 'AAAA',
			type: 'public-key',
			response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
			clientExtensionResults: {}
		}
	},
	'POST /api/v1/secure-account': { token: 'a'.repeat(32) },
	'POST /api/v1/recovery/cancel': { token: 'a'.repeat(32) },
	'POST /api/v1/password-resets': someone,
	'POST /api/v1/password-resets/confirm': { ...someone, code: '000000', newPassword: NEW_PASSWORD },
	'POST /api/v1/internal/accounts/first-order': someone
};

/** The route files under src/routes/api/v1, as the document spells their paths. */
function routeFilesOnDisk(dir = 'src/routes/api/v1'): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return routeFilesOnDisk(path);
		return name === '+server.ts' ? [path.replace(/^src\/routes/, '').replace(/\/\+server\.ts$/, '').replace(/\[(\w+)\]/g, '{$1}')] : [];
	});
}

describe.each(testDatabases)('OpenAPI contract of /api/v1 on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let bare: ReturnType<typeof testAppContext>;
	let passwordHash: string;
	const contract = new Contract();
	const problems: string[] = [];

	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { ORIGIN, INTERNAL_API_TOKEN: INTERNAL_TOKEN } });
		bare = testAppContext(database);
		passwordHash = await hashPassword(PASSWORD);
	});
	afterAll(() => database.dispose());

	interface Call {
		json?: unknown;
		body?: BodyInit;
		headers?: Record<string, string>;
		jar?: CookieJar;
		clientAddress?: string;
		on?: ReturnType<typeof testAppContext>;
	}
	/** One request through the real hooks; its answer is checked against the document. */
	async function call(method: string, path: string, init: Call = {}) {
		const headers = new Headers(init.headers);
		let body = init.body;
		if (init.json !== undefined) {
			body = JSON.stringify(init.json);
			if (!headers.has('content-type')) headers.set('content-type', 'application/json');
		}
		const fetch = apiFetch(init.on ?? app, {
			jar: init.jar ?? new Map(),
			clientAddress: init.clientAddress ?? nextAddress(),
			observe: async (request, response) => {
				problems.push(...(await contract.problems(request, response)));
			}
		});
		const response = await fetch(new URL(path, ENDPOINT_ORIGIN), { method, headers, body });
		const text = await response.text();
		if (text && !/json/.test(response.headers.get('content-type') ?? ''))
			throw new Error(`${method} ${path}: ${response.status} ${text}`);
		return {
			status: response.status,
			code: text ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined,
			body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined
		};
	}
	const post = (path: string, json: unknown, init: Call = {}) =>
		call('POST', path, { ...init, json });

	/** An account with PASSWORD, signed in in a new jar (one sign-in, so one known device). */
	async function member() {
		const email = uniqueEmail('contract');
		await insertAccount(database.db, { email, password_hash: passwordHash });
		const jar: CookieJar = new Map();
		expect((await post('/api/v1/sessions', { identifier: email, password: PASSWORD }, { jar })).status).toBe(201);
		return { email, jar };
	}

	it('every route file under src/routes/api/v1 is in the document, and every path has one', () => {
		const documented = Object.keys(contract.document.paths).sort();
		expect(routeFilesOnDisk().sort()).toEqual(documented);
		expect([...API_ROUTE_PATHS].sort()).toEqual(documented);
	});

	it('the document is served at GET /api/v1/openapi.json, cacheable, without a session', async () => {
		const served = await call('GET', '/api/v1/openapi.json');
		expect(served.status).toBe(200);
		expect(served.body).toEqual(JSON.parse(JSON.stringify(contract.document)));
	});

	it('the validator refuses an answer with an undocumented status or member', async () => {
		const request = new Request(`${ENDPOINT_ORIGIN}/api/v1/password-resets`, { method: 'POST' });
		expect(await contract.problems(request, Response.json({}, { status: 418 }))).toEqual([
			'POST /api/v1/password-resets 418: status not documented'
		]);
		const extra = await contract.problems(request, Response.json({ token: 'x' }, { status: 202 }));
		expect(extra.join()).toMatch(/must NOT have additional properties/);
	});

	it('§2: every endpoint answers its shared errors as documented (415, 400, 403, 413, 401, 503)', async () => {
		const { email, jar } = await member();
		// The freeze by a check grant reads the database only with a grant (the keys are the same).
		await post('/api/v1/verifications', { identifier: email, purpose: 'check' });
		const grant: CookieJar = new Map([['pending_sign_in', 'a'.repeat(32)]]);
		const code = await latestCode(database.db, email);
		await post('/api/v1/verifications/confirm', { identifier: email, purpose: 'check', code }, { jar: grant });
		// A database that does not answer (nothing listens on port 1): 503 `unavailable`.
		const target = { kind: 'postgres', url: 'postgres://asc@127.0.0.1:1/none', schema: 'none', poolSize: 1 } as const;
		const closed = { ...openDatabase(target), target, dispose: async () => {} };
		const down = testAppContext(closed, { env: { ORIGIN, INTERNAL_API_TOKEN: INTERNAL_TOKEN } });
		for (const op of OPERATIONS) {
			const path = op.path.replace('{id}', 'unknown').replace('{reference}', 'AP-0000-0000');
			const method = op.method.toUpperCase();
			const auth = op.auth === 'internalToken' ? { authorization: `Bearer ${INTERNAL_TOKEN}` } : {};
			const as = { jar: new Map(jar), headers: auth };
			if (op.body) {
				expect((await call(method, path, { ...as, body: '{}', headers: { ...auth, 'content-type': 'text/plain' } })).code).toBe('unsupported_media_type');
				expect((await call(method, path, { ...as, json: [] })).code).toBe('invalid_json');
				expect((await call(method, path, { ...as, json: { unknownMember: 1 } })).code).toBe('invalid_request');
				expect((await call(method, path, { ...as, json: { pad: 'x'.repeat(17_000) } })).code).toBe('request_too_large');
			}
			if (op.method !== 'get')
				expect((await call(method, path, { ...as, headers: { ...auth, origin: 'https://evil.example' } })).code).toBe('forbidden_origin');
			if (op.auth === 'session') expect((await call(method, path, { json: op.body ? {} : undefined })).code).toBe('unauthenticated');
			if (op.auth === 'internalToken') expect((await call(method, path, { json: {} })).code).toBe('unauthenticated');
			if (op.auth !== 'session' && !op.answersWithoutDatabase) {
				const unavailable = await call(method, path, {
					headers: { ...auth, authorization: auth.authorization ?? 'Bearer status-token' },
					jar: new Map(grant),
					on: down,
					json:
						op.method === 'get'
							? undefined
							: op.path.endsWith('/freeze')
								? { identifier: email }
								: (UNAVAILABLE_BODIES[`${method} ${op.path}`] ?? {})
				});
				expect([unavailable.status, op.path]).toEqual([503, op.path]);
			}
		}
		await closed.close();
	});

	it('R12–R15a: the check and its codes', async () => {
		const { email } = await member();
		expect((await post('/api/v1/check', { identifier: email })).status).toBe(200);
		expect((await post('/api/v1/check', { identifier: 'not an identifier' })).code).toBe('invalid_identifier');
		const busy = uniqueEmail('busy');
		const address = nextAddress();
		let last = 0;
		for (let i = 0; i < 11; i++) last = (await post('/api/v1/check', { identifier: busy }, { clientAddress: address })).status;
		expect(last).toBe(429);
		expect((await post('/api/v1/verifications', { identifier: 'nope', purpose: 'check' })).code).toBe('invalid_identifier');
		expect((await post('/api/v1/verifications', { identifier: email, purpose: 'check' })).status).toBe(202);
		expect((await post('/api/v1/verifications', { identifier: email, purpose: 'check' })).code).toBe('rate_limited');
		const confirm = (code: string, jar?: CookieJar, identifier = email) =>
			post('/api/v1/verifications/confirm', { identifier, purpose: 'check', code }, { jar });
		expect((await confirm('000000', undefined, 'nope')).code).toBe('invalid_identifier');
		expect((await confirm('000000')).code).toBe('code_invalid');
		const grant: CookieJar = new Map();
		expect((await confirm(await latestCode(database.db, email), grant)).status).toBe(200);
		expect((await post('/api/v1/verifications/freeze', { identifier: 'nope' })).code).toBe('invalid_identifier');
		expect((await post('/api/v1/verifications/freeze', { identifier: email })).code).toBe('verification_required');
		expect((await post('/api/v1/verifications/freeze', { identifier: email }, { jar: grant })).status).toBe(200);
		// A code left to expire, and one tried too often.
		const late = (await member()).email;
		await post('/api/v1/verifications', { identifier: late, purpose: 'check' });
		const lateCode = await latestCode(database.db, late);
		app.clock.advance(HOUR);
		expect((await confirm(lateCode, undefined, late)).code).toBe('code_expired');
		await post('/api/v1/verifications', { identifier: late, purpose: 'check' });
		for (let i = 0; i < 5; i++) await confirm('000000', undefined, late);
		expect((await confirm('000000', undefined, late)).code).toBe('too_many_attempts');
		const limited = (await member()).email;
		for (let i = 0; i < 10; i++) await post('/api/v1/check', { identifier: limited });
		expect((await confirm('000000', undefined, limited)).code).toBe('rate_limited');
	});

	it('R3–R10: registration and sign-in', async () => {
		const email = uniqueEmail('register');
		const jar: CookieJar = new Map();
		const register = (json: Record<string, unknown>, init: Call = {}) =>
			post('/api/v1/registrations', { identifier: email, password: PASSWORD, country: 'CN', ...json }, init);
		expect((await register({ country: 'XX' })).code).toBe('invalid_country');
		expect((await register({ identifier: 'nope' })).code).toBe('invalid_identifier');
		expect((await register({ password: 'short' })).code).toBe('invalid_password');
		expect((await register({ password: 'password1' })).code).toBe('password_too_common');
		const { email: taken } = await member();
		expect((await register({ identifier: taken })).code).toBe('identifier_taken');
		const address = nextAddress();
		expect((await register({}, { jar, clientAddress: address })).status).toBe(202);
		expect((await register({}, { jar, clientAddress: address })).code).toBe('rate_limited');
		const resend = (json: Record<string, unknown>, init: Call = {}) =>
			post('/api/v1/registrations/resend', { identifier: email, ...json }, init);
		expect((await resend({ identifier: 'nope' }, { jar })).code).toBe('invalid_identifier');
		expect((await resend({})).code).toBe('code_invalid');
		expect((await resend({}, { jar })).code).toBe('rate_limited');
		app.clock.advance(61_000);
		expect((await resend({}, { jar })).status).toBe(202);
		const confirm = (json: Record<string, unknown>, init: Call = {}) =>
			post('/api/v1/registrations/confirm', { identifier: email, code: '000000', ...json }, init);
		expect((await confirm({ identifier: 'nope' }, { jar })).code).toBe('invalid_identifier');
		expect((await confirm({})).code).toBe('registration_elsewhere');
		expect((await confirm({}, { jar })).code).toBe('code_invalid');
		for (let i = 0; i < 4; i++) await confirm({}, { jar });
		expect((await confirm({}, { jar })).code).toBe('too_many_attempts');
		// A new registration: expired, then taken meanwhile, then done.
		const next = uniqueEmail('register');
		const nextJar: CookieJar = new Map();
		await register({ identifier: next }, { jar: nextJar });
		const stale = await latestCode(database.db, next);
		app.clock.advance(HOUR / 4);
		expect((await confirm({ identifier: next, code: stale }, { jar: nextJar })).code).toBe('code_expired');
		const third = uniqueEmail('register');
		const thirdJar: CookieJar = new Map();
		await register({ identifier: third }, { jar: thirdJar });
		const code = await latestCode(database.db, third);
		const racer = uniqueEmail('register');
		const racerJar: CookieJar = new Map();
		await register({ identifier: racer }, { jar: racerJar });
		await insertAccount(database.db, { email: racer, password_hash: passwordHash });
		expect((await confirm({ identifier: racer, code: await latestCode(database.db, racer) }, { jar: racerJar })).code).toBe('identifier_taken');
		expect((await confirm({ identifier: third, code }, { jar: thirdJar })).status).toBe(201);

		expect((await post('/api/v1/sessions', { identifier: third, password: NEW_PASSWORD })).code).toBe('invalid_credentials');
		const throttled = nextAddress();
		let status = 0;
		for (let i = 0; i < 6; i++)
			status = (await post('/api/v1/sessions', { identifier: third, password: NEW_PASSWORD }, { clientAddress: throttled })).status;
		expect(status).toBe(429);
		expect((await call('DELETE', '/api/v1/sessions/current')).status).toBe(204);
	});

	it('§7a/§7b: two-step sign-in, passkeys, a frozen account', async () => {
		const { email, jar } = await member();
		// TOTP on, through its own endpoints.
		const start = (json: Record<string, unknown>) => post('/api/v1/account/two-factor/totp', json, { jar });
		expect((await post('/api/v1/account/two-factor/totp/confirm', { code: '000000' }, { jar })).code).toBe('totp_setup_missing');
		expect((await call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: PASSWORD, code: '000000' } })).code).toBe('totp_not_on');
		expect((await start({ currentPassword: 'wrong password' })).code).toBe('invalid_credentials');
		const secret = (await start({ currentPassword: PASSWORD })).body!.secret as string;
		expect((await post('/api/v1/account/two-factor/totp/confirm', { code: 'abcdef' }, { jar })).code).toBe('code_invalid');
		expect((await post('/api/v1/account/two-factor/totp/confirm', { code: appCode(secret, app.clock) }, { jar })).status).toBe(201);
		expect((await start({ currentPassword: PASSWORD })).code).toBe('totp_already_on');

		// The second step.
		const pending: CookieJar = new Map();
		const signIn = await post('/api/v1/sessions', { identifier: email, password: PASSWORD }, { jar: pending });
		expect(signIn.status).toBe(202);
		const second = (code: string, init: Call = {}) => post('/api/v1/sessions/second-factor', { code }, { jar: pending, ...init });
		expect((await second('000000', { jar: new Map() })).code).toBe('second_factor_expired');
		expect((await second('abcdef')).code).toBe('code_invalid');
		app.clock.advance(30_000);
		expect((await second(appCode(secret, app.clock))).status).toBe(201);
		expect((await call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: PASSWORD, code: 'abcdef' } })).code).toBe('code_invalid');
		const address = nextAddress();
		const again: CookieJar = new Map();
		await post('/api/v1/sessions', { identifier: email, password: PASSWORD }, { jar: again });
		let status = 0;
		for (let i = 0; i < 6; i++) status = (await second('abcdef', { jar: again, clientAddress: address })).status;
		expect(status).toBe(429);
		app.clock.advance(HOUR);
		app.clock.advance(30_000);
		expect((await call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: PASSWORD, code: appCode(secret, app.clock) } })).status).toBe(204);

		// Passkeys: options, add, list, rename, remove, sign in.
		const key = softAuthenticator();
		expect((await post('/api/v1/account/two-factor/passkeys/options', { currentPassword: PASSWORD }, { jar, on: bare })).code).toBe('passkeys_unavailable');
		const options = (await post('/api/v1/account/two-factor/passkeys/options', { currentPassword: PASSWORD }, { jar })).body!;
		const garbage = key.register({ ...(options as { challenge: string; rp: { id: string } }), challenge: 'aW52ZW50ZWQ' }, ORIGIN);
		expect((await post('/api/v1/account/two-factor/passkeys', { response: garbage }, { jar })).code).toBe('passkey_invalid');
		expect((await post('/api/v1/account/two-factor/passkeys', { response: garbage }, { jar, on: bare })).code).toBe('passkeys_unavailable');
		const options2 = (await post('/api/v1/account/two-factor/passkeys/options', { currentPassword: PASSWORD }, { jar })).body!;
		const added = await post('/api/v1/account/two-factor/passkeys', { response: key.register(options2 as never, ORIGIN), name: 'Laptop' }, { jar });
		expect(added.status).toBe(201);
		const id = (added.body!.passkey as { id: string }).id;
		expect((await call('GET', '/api/v1/account/two-factor/passkeys', { jar })).status).toBe(200);
		expect((await call('PATCH', '/api/v1/account/two-factor/passkeys/unknown', { jar, json: { name: 'x' } })).code).toBe('passkey_not_found');
		expect((await call('PATCH', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { name: 'Phone' } })).status).toBe(200);
		expect((await call('DELETE', '/api/v1/account/two-factor/passkeys/unknown', { jar, json: { currentPassword: PASSWORD } })).code).toBe('passkey_not_found');

		const signInJar: CookieJar = new Map();
		expect((await call('POST', '/api/v1/sessions/passkey/options', { on: bare })).code).toBe('passkeys_unavailable');
		const request = (await call('POST', '/api/v1/sessions/passkey/options', { jar: signInJar })).body!;
		expect((await post('/api/v1/sessions/passkey', { response: key.assert(request as never, ORIGIN) }, { on: bare })).code).toBe('passkeys_unavailable');
		expect((await post('/api/v1/sessions/passkey', { response: key.assert(request as never, ORIGIN) }, { jar: signInJar })).status).toBe(201);
		expect((await post('/api/v1/sessions/passkey', { response: key.assert(request as never, ORIGIN) }, { jar: signInJar })).code).toBe('passkey_invalid');
		const many = nextAddress();
		status = 0;
		for (let i = 0; i < 61; i++) status = (await call('POST', '/api/v1/sessions/passkey/options', { clientAddress: many })).status;
		expect(status).toBe(429);

		// Wrong passwords pause the two-step forms (§7a): 429 on each of them.
		for (let i = 0; i < 5; i++) await call('DELETE', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { currentPassword: 'wrong password' } });
		expect((await call('DELETE', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { currentPassword: 'wrong password' } })).code).toBe('rate_limited');
		expect((await start({ currentPassword: PASSWORD })).code).toBe('rate_limited');
		expect((await call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: PASSWORD, code: '000000' } })).code).toBe('rate_limited');
		expect((await post('/api/v1/account/two-factor/passkeys/options', { currentPassword: PASSWORD }, { jar })).code).toBe('rate_limited');
		app.clock.advance(HOUR);
		expect((await post('/api/v1/account/two-factor/passkeys/options', { currentPassword: 'wrong password' }, { jar })).code).toBe('invalid_credentials');
		expect((await call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: 'wrong password', code: '000000' } })).code).toBe('invalid_credentials');
		expect((await call('DELETE', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { currentPassword: PASSWORD } })).status).toBe(204);

		// §7b: the owner's freeze; then a session that outlived it (a freeze racing it, as
		// contact-change.test.ts does) is refused every change, and so are the second steps.
		const frozen = await member();
		expect((await post('/api/v1/account/freeze', { currentPassword: 'wrong password' }, { jar: frozen.jar })).code).toBe('invalid_credentials');
		expect((await post('/api/v1/account/freeze', { currentPassword: PASSWORD }, { jar: frozen.jar })).status).toBe(200);
		expect((await post('/api/v1/sessions', { identifier: frozen.email, password: PASSWORD })).code).toBe('account_frozen');
		const pendingFrozen: CookieJar = new Map();
		expect((await post('/api/v1/sessions', { identifier: email, password: PASSWORD }, { jar: pendingFrozen })).status).toBe(201);
		await database.db.updateTable('accounts').set({ frozen_at: app.clock.now().getTime() }).where('email', '=', email).execute();
		const refusals = [
			() => start({ currentPassword: PASSWORD }),
			() => post('/api/v1/account/two-factor/totp/confirm', { code: '000000' }, { jar }),
			() => call('DELETE', '/api/v1/account/two-factor/totp', { jar, json: { currentPassword: PASSWORD, code: '000000' } }),
			() => post('/api/v1/account/two-factor/passkeys/options', { currentPassword: PASSWORD }, { jar }),
			() => post('/api/v1/account/two-factor/passkeys', { response: garbage }, { jar }),
			() => call('PATCH', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { name: 'x' } }),
			() => call('DELETE', `/api/v1/account/two-factor/passkeys/${id}`, { jar, json: { currentPassword: PASSWORD } }),
			() => post('/api/v1/account/contact-changes', { currentPassword: PASSWORD, newIdentifier: uniqueEmail('x') }, { jar }),
			() => post('/api/v1/account/contact-changes/resend', {}, { jar }),
			() => post('/api/v1/account/contact-changes/confirm', { code: '000000' }, { jar })
		];
		for (const refused of refusals) expect((await refused()).code).toBe('account_frozen');
	});
});
