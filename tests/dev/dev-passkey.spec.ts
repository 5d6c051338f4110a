import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { expect, test } from '../e2e/fixtures';
import { uniqueEmail } from '../support/factories';
import { devDatabase } from './playwright.config';

/**
 * Issue 24, `npm run dev` (see ./playwright.config.ts): ORIGIN comes from Vite's address, so a
 * fresh /login shows no error, offers a passkey, and a passkey made there signs in (Chromium's
 * virtual authenticator, as tests/e2e/two-step.spec.ts).
 */

const PASSWORD = 'a long and quiet river';

test('npm run dev: a fresh /login shows no error, and a passkey signs in', async ({
	page,
	db,
	baseURL
}) => {
	const options = await page.request.post('/api/v1/sessions/passkey/options', {
		data: {},
		headers: { origin: baseURL! }
	});
	expect(options.status()).toBe(200);
	// The autofill offer the page starts by itself answers too (503 without ORIGIN).
	const offer = page.waitForResponse('**/api/v1/sessions/passkey/options');
	await page.goto('/login');
	expect((await offer).status()).toBe(200);
	await expect(page.getByRole('alert')).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Use a passkey instead' })).toBeVisible();

	const cdp = await page.context().newCDPSession(page);
	await cdp.send('WebAuthn.enable');
	await cdp.send('WebAuthn.addVirtualAuthenticator', {
		options: {
			protocol: 'ctap2',
			transport: 'internal',
			hasResidentKey: true,
			hasUserVerification: true,
			isUserVerified: true,
			automaticPresenceSimulation: true
		}
	});
	const account = db.insertAccount(
		{ email: uniqueEmail('devpasskey'), password_hash: await hashPassword(PASSWORD) },
		devDatabase
	);
	await page.goto('/login');
	await page.getByLabel('Email or phone number').fill(account.email!);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await expect(page).toHaveURL(/\/account$/);
	await page.goto('/account/security/two-step');
	await page.locator('#passkey-password').fill(PASSWORD);
	await page.getByLabel('Name for the new passkey').fill('Laptop');
	await page.getByRole('button', { name: 'Add a passkey' }).click();
	await expect(page.locator('[data-passkey="Laptop"]')).toBeVisible();
	await page.context().clearCookies();
	await page.goto('/login');
	await expect(page).toHaveURL(/\/account$/);
});
