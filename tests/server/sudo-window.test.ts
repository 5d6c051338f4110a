import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETE as signOut } from '../../src/routes/api/v1/sessions/current/+server';
import { POST as changePassword } from '../../src/routes/api/v1/account/password/+server';
import { actions } from '../../src/routes/account/security/two-step/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertMember, PASSWORD, signedInBrowser } from '../support/signed-in';

const NEW_PASSWORD = 'another long and quiet river';
const TEN_MINUTES = 10 * 60_000;
let address = 0;
const nextAddress = () => `1.0.4.${(address++ % 250) + 1}`;

describe.each(testDatabases)(
	'§7a the two-step page’s re-authentication window on $name',
	({ open }) => {
		let database: TestDatabase;
		let app: TestApp;
		beforeAll(async () => ({ database, app } = await openTestApp(open)));
		afterAll(() => database.dispose());

		const member = async () => (await insertMember(app, 'sudo', { joinedNow: true })).email;
		const browser = (email: string, password = PASSWORD) =>
			signedInBrowser(app, email, { password, clientAddress: nextAddress() });
		const form = (action: keyof typeof actions, jar: CookieJar, fields: Record<string, string>) =>
			callEndpoint(actions[action]!, app, {
				path: `/account/security/two-step?/${action}`,
				body: new URLSearchParams(fields),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				jar
			});
		/** TOTP set-up with no password typed: passes only inside an open window. */
		const startWithoutPassword = async (jar: CookieJar) => {
			try {
				const res = (await form('start', jar, {})) as Record<string, unknown>;
				return 'step' in res && res.step === 'scan' ? 'open' : res;
			} catch (thrown) {
				return thrown; // signed out: the redirect to /login
			}
		};

		it('a wrong password opens nothing; the right one opens 10 minutes for this session only', async () => {
			const email = await member();
			const jar = await browser(email);
			const other = await browser(email);
			expect(await startWithoutPassword(jar)).toMatchObject({
				data: { error: { field: 'currentPassword' } }
			});
			expect(await form('reauth', jar, { currentPassword: 'not the password' })).toMatchObject({
				status: 403,
				data: { error: { code: 'invalid_credentials' } }
			});
			expect(await startWithoutPassword(jar)).not.toBe('open');
			const opened = (await form('reauth', jar, { currentPassword: PASSWORD })) as {
				reauthUntil: string;
			};
			expect(new Date(opened.reauthUntil).getTime()).toBe(app.clock.now().getTime() + TEN_MINUTES);
			expect(await startWithoutPassword(jar)).toBe('open');
			// Another session of the same account does not get the window.
			expect(await startWithoutPassword(other)).not.toBe('open');
			app.clock.advance(TEN_MINUTES - 1);
			expect(await startWithoutPassword(jar)).toBe('open');
			app.clock.advance(1);
			expect(await startWithoutPassword(jar)).not.toBe('open');
		});

		it('the window ends with the session: sign-out, then a new sign-in has none', async () => {
			const email = await member();
			const jar = await browser(email);
			await form('reauth', jar, { currentPassword: PASSWORD });
			expect(await startWithoutPassword(jar)).toBe('open');
			expect((await callEndpoint(signOut, app, { method: 'DELETE', jar })).status).toBeLessThan(
				300
			);
			expect(await startWithoutPassword(jar)).toMatchObject({ status: 303, location: '/login' });
			const again = await browser(email);
			expect(await startWithoutPassword(again)).not.toBe('open');
		});

		it('a password change ends the window of the session it keeps', async () => {
			const email = await member();
			const jar = await browser(email);
			await form('reauth', jar, { currentPassword: PASSWORD });
			expect(await startWithoutPassword(jar)).toBe('open');
			const changed = await callEndpoint(changePassword, app, {
				json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
				jar
			});
			expect(changed.status).toBeLessThan(300);
			expect(await startWithoutPassword(jar)).not.toBe('open');
		});
	}
);
