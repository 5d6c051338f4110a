import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { testDatabases, type TestDatabase } from '../support/databases';
import type { CookieJar } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';
import { apiFetch, Contract, ENDPOINT_ORIGIN } from '../support/openapi';
import type { paths } from '../support/openapi-schema';

const PASSWORD = 'a long and quiet river';
const NEW_PASSWORD = 'another calm and long sentence';

/**
 * Issue 24: a client nobody here wrote (openapi-fetch over the types openapi-typescript generated
 * from the document) runs one whole journey against the real routes and hooks: register, check,
 * sign in, change the contact, reset the password. Every answer is also held to the document.
 */
describe.each(testDatabases)('OpenAPI typed client journey on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	it('R3/R8/R12/R16/R18: register → check → sign in → change contact → reset, by the generated client', async () => {
		const contract = new Contract();
		const problems: string[] = [];
		const jar: CookieJar = new Map();
		const api = createClient<paths>({
			baseUrl: ENDPOINT_ORIGIN,
			fetch: apiFetch(app, {
				jar,
				observe: async (request, response) => {
					problems.push(...(await contract.problems(request, response)));
				}
			})
		});
		const email = uniqueEmail('journey');
		const newEmail = uniqueEmail('journey-new');

		const started = await api.POST('/api/v1/registrations', {
			body: { identifier: email, password: PASSWORD, country: 'CN' }
		});
		expect(started.response.status).toBe(202);
		expect(Date.parse(started.data!.expiresAt)).toBeGreaterThan(app.clock.now().getTime());
		const registered = await api.POST('/api/v1/registrations/confirm', {
			body: { identifier: email, code: await latestCode(database.db, email) }
		});
		expect(registered.response.status).toBe(201);
		expect(registered.data?.account.status).toBe('active');

		const report = await api.POST('/api/v1/check', { body: { identifier: email } });
		expect(report.data).toMatchObject({ registered: true, tier: 'verified' });

		expect((await api.DELETE('/api/v1/sessions/current')).response.status).toBe(204);
		const refused = await api.GET('/api/v1/account');
		expect(refused.error?.error.code).toBe('unauthenticated');
		const signedIn = await api.POST('/api/v1/sessions', {
			body: { identifier: email, password: PASSWORD }
		});
		expect(signedIn.response.status).toBe(201);

		const change = await api.POST('/api/v1/account/contact-changes', {
			body: { currentPassword: PASSWORD, newIdentifier: newEmail }
		});
		expect(change.response.status).toBe(202);
		const changed = await api.POST('/api/v1/account/contact-changes/confirm', {
			body: { code: await latestCode(database.db, newEmail) }
		});
		expect(changed.data?.contactChange).toMatchObject({ used: 1, remaining: 1 });
		const own = await api.GET('/api/v1/account');
		expect(own.data?.contacts).toEqual([{ kind: 'email', masked: expect.any(String) }]);

		expect(
			(await api.POST('/api/v1/password-resets', { body: { identifier: newEmail } })).response
				.status
		).toBe(202);
		const reset = await api.POST('/api/v1/password-resets/confirm', {
			body: {
				identifier: newEmail,
				code: await latestCode(database.db, newEmail, 'password_reset'),
				newPassword: NEW_PASSWORD
			}
		});
		expect(reset.response.status).toBe(204);
		// R18: every session revoked; the new password signs in, at the new contact only.
		expect((await api.GET('/api/v1/account')).response.status).toBe(401);
		const old = await api.POST('/api/v1/sessions', {
			body: { identifier: email, password: NEW_PASSWORD }
		});
		expect(old.error?.error.code).toBe('invalid_credentials');
		const again = await api.POST('/api/v1/sessions', {
			body: { identifier: newEmail, password: NEW_PASSWORD }
		});
		expect(again.data).toEqual({ account: { status: 'active' } });

		expect(problems).toEqual([]);
	});
});
