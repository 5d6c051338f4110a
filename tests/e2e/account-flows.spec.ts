import type { Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, ready, test } from './fixtures';
import { latestCodeFor } from './outbox';

const PASSWORD = 'a long and quiet river';
const NEW_PASSWORD = 'another calm and long sentence';
const passwordHash = hashPassword(PASSWORD);

async function signInThroughPage(
	page: Page,
	identifier: string,
	password: string,
	javaScriptEnabled: boolean
) {
	await page.goto('/login');
	await ready(page, javaScriptEnabled);
	await page.getByLabel('Email or phone number').fill(identifier);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/account$/);
}

const shot = async (page: Page, name: string) => {
	if (process.env.DOCS_SCREENSHOTS === '1')
		await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
};

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	test.describe(`account flows with JavaScript ${js}`, () => {
		test.use({ javaScriptEnabled, extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' } });

		test('R16/R17: change the bound email; other sessions are signed out', async ({
			page,
			browser,
			baseURL,
			db,
			axe
		}) => {
			const email = uniqueEmail('change');
			db.insertAccount({ email, password_hash: await passwordHash });
			const elsewhere = await browser.newContext({ baseURL });
			const otherPage = await elsewhere.newPage();
			await signInThroughPage(otherPage, email, PASSWORD, javaScriptEnabled);

			await signInThroughPage(page, email, PASSWORD, javaScriptEnabled);
			await page.getByRole('link', { name: 'Change the bound email or phone' }).click();
			await expect(page.locator('[data-code="contact_change_quota"]')).toContainText(
				'0 of 2 changes used'
			);
			await axe(page);
			if (javaScriptEnabled) await shot(page, 'contact-change-start');
			const next = uniqueEmail('changed');
			await page.getByLabel('Current password').fill(PASSWORD);
			await page.getByLabel('New email or phone number').fill(next);
			await page.getByRole('button', { name: 'Send code to the new contact' }).click();
			await expect(page.getByText(/We sent a code to/)).toBeVisible();
			await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, next));
			await page.getByRole('button', { name: 'Change contact' }).click();
			await expect(
				page.getByRole('status').filter({ hasText: 'Your contact was changed' })
			).toBeVisible();
			await expect(page.locator('[data-code="contact_change_quota"]')).toContainText(
				'1 of 2 changes used'
			);
			await axe(page);
			if (javaScriptEnabled) await shot(page, 'contact-change-done');

			await otherPage.goto('/account');
			await expect(otherPage).toHaveURL(/\/login$/);
			await elsewhere.close();
			const notice = await (
				await page.request.get(`/api/test/outbox?to=${encodeURIComponent(email)}`)
			).json();
			expect(notice.messages[0].purpose).toBe('contact_changed');
		});

		test('R18: reset the password; sessions revoked; sign in with the new one', async ({
			page,
			browser,
			baseURL,
			db,
			axe
		}) => {
			const email = uniqueEmail('forgot');
			db.insertAccount({ email, password_hash: await passwordHash });
			const elsewhere = await browser.newContext({ baseURL });
			const otherPage = await elsewhere.newPage();
			await signInThroughPage(otherPage, email, PASSWORD, javaScriptEnabled);

			await page.goto('/forgot-password');
			await axe(page);
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByRole('button', { name: 'Send code' }).click();
			await expect(page.getByText(/If an account uses this email or phone/)).toBeVisible();
			await expect(page.getByRole('link', { name: /Appeal with proof of identity/ })).toBeVisible();
			await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, email));
			await page.getByLabel('New password').fill(NEW_PASSWORD);
			if (javaScriptEnabled) await shot(page, 'forgot-password-code');
			await page.getByRole('button', { name: 'Set new password' }).click();
			await expect(
				page.getByRole('status').filter({ hasText: 'Your password was changed' })
			).toBeVisible();
			await axe(page);

			await otherPage.goto('/account');
			await expect(otherPage).toHaveURL(/\/login$/);
			await elsewhere.close();
			await signInThroughPage(page, email, NEW_PASSWORD, javaScriptEnabled);
		});

		test('R18: an unknown identifier gets the same page as a known one', async ({ page }) => {
			await page.goto('/forgot-password');
			await page.getByLabel('Email or phone number').fill(uniqueEmail('nobody'));
			await page.getByRole('button', { name: 'Send code' }).click();
			await expect(page.getByText(/If an account uses this email or phone/)).toBeVisible();
		});
	});
}
