import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

const PASSWORD = 'a long and quiet river';

for (const javaScriptEnabled of [true, false]) {
	test.describe(`sign-in with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({ javaScriptEnabled });

		test('signs in, sees the account, signs out', async ({ page, db, axe }) => {
			const account = db.insertAccount({
				email: uniqueEmail('signin'),
				password_hash: await hashPassword(PASSWORD)
			});
			await page.goto('/login');
			await axe(page);
			await page.getByLabel('Email or phone number').fill(account.email!);
			await page.getByLabel('Password').fill('wrong password here');
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page.getByRole('alert').filter({ hasText: 'do not match' })).toBeVisible();
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
			await expect(page.locator('[data-status]')).toHaveText('Active');
			await axe(page);
			await page.getByRole('button', { name: 'Sign out' }).click();
			await expect(page).toHaveURL(/\/login$/);
			await page.goto('/account');
			await expect(page).toHaveURL(/\/login$/);
		});
	});
}
