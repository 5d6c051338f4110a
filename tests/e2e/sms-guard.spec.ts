import { expect, test } from './fixtures';

const PASSWORD = 'a long and quiet river';

test.describe('R29 SMS budget on the register page with JavaScript off', () => {
	test.use({ javaScriptEnabled: false });

	test("R29: a premium-rate number is refused with the form's own error, before any code", async ({
		page
	}) => {
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill('+44 909 876 5432');
		await page.getByLabel('Country you will use the account in').selectOption('GB');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		const field = page.getByLabel('Email or phone number');
		await expect(field).toHaveAttribute('aria-invalid', 'true');
		await expect(
			page.getByText('We cannot send a text message to this number.', { exact: false })
		).toBeVisible();
		await expect(page.getByLabel('6-digit code')).toHaveCount(0);
	});
});
