import type { Page } from '@playwright/test';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';
import { latestCodeFor } from './outbox';

const PASSWORD = 'a long and quiet river';
const inChina = { extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' } };
const inTheUs = { extraHTTPHeaders: { 'x-forwarded-for': '8.8.8.8' } };

let phoneSeq = Date.now() % 10_000_000;
function cnMobile(): { typed: string; e164: string } {
	// R29: consecutive numbers would share one block of 10,000 (5 SMS an hour): spread them.
	const rest = String((++phoneSeq * 10_007) % 100_000_000).padStart(8, '0');
	return { typed: `+86 138 ${rest.slice(0, 4)} ${rest.slice(4)}`, e164: `+86138${rest}` };
}

async function register(page: Page, typed: string, recipient: string, country?: string) {
	await page.goto('/register');
	await page.getByLabel('Email or phone number').fill(typed);
	if (country) await page.getByLabel('Country you will use the account in').selectOption(country);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', { name: 'Send code' }).click();
	await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
	const code = await latestCodeFor(page.request, recipient);
	await page.getByLabel('6-digit code').fill(code);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).toHaveURL(/\/account/);
	await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
}

for (const javaScriptEnabled of [true, false]) {
	test.describe(`registration with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({ javaScriptEnabled, ...inChina });

		test('R8: with an email, code from the outbox, lands signed in', async ({ page, axe }) => {
			const email = uniqueEmail('reg');
			await page.goto('/register');
			await expect(page.getByLabel('Country you will use the account in')).toHaveValue('CN');
			await axe(page);
			await register(page, email, email);
			await expect(page.getByRole('status')).toContainText('Your account is ready');
			await expect(page.locator('[data-status]')).toHaveText('Active');
			await axe(page);
		});

		test('R2/R8: with +86 numbers in several formats', async ({ page }) => {
			const spaced = cnMobile();
			await register(page, spaced.typed, spaced.e164);
			await page.getByRole('button', { name: 'Sign out' }).click();
			const zeros = cnMobile();
			await register(page, zeros.typed.replace('+86 ', '0086-').replace(' ', '-'), zeros.e164);
			await page.getByRole('button', { name: 'Sign out' }).click();
			const national = cnMobile();
			await register(page, national.e164.slice(3), national.e164, 'CN');
		});
	});
}

test.describe('registration from the US', () => {
	test.use(inTheUs);

	test('R2/R8: with a +1 number typed in national format', async ({ page }) => {
		const n = 1000 + (Date.now() % 8000);
		await register(page, `(201) 555-${n}`, `+1201555${n}`, 'US');
		await expect(page.locator('[data-status]')).toHaveText('Active');
	});

	test('R9: choosing China from a US network warns before submit and creates an account under review', async ({
		page,
		axe
	}) => {
		const email = uniqueEmail('mismatch');
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill(email);
		await page.getByLabel('Country you will use the account in').selectOption('CN');
		const warning = page.locator('[data-code="ip_country_mismatch"]');
		await expect(warning).toContainText('United States');
		await axe(page);
		await page.getByLabel(/I understand/).check();
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, email));
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page.locator('[data-status]')).toHaveText('Under risk review');
		await expect(page.locator('[data-code="under_review"]')).toBeVisible();
	});
});

test.describe('registration errors', () => {
	test.use(inChina);

	test('R1: a malformed email is explained; R3: a taken one points to forgot-password', async ({
		page,
		db
	}) => {
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill('john.gmail.com');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await expect(page.locator('#identifier-error')).toContainText(
			'This email address is not valid'
		);

		const taken = db.insertAccount({ email: uniqueEmail('taken') });
		await page.getByLabel('Email or phone number').fill(taken.email!);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await expect(page.locator('#identifier-error')).toContainText('already registered');
		await expect(page.getByRole('link', { name: 'Forgot your password?' }).first()).toBeVisible();
	});

	test('R6: an expired code says so, and a new one can be requested', async ({ page, request }) => {
		const email = uniqueEmail('expiry');
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill(email);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		const code = await latestCodeFor(request, email);
		await expect(page.getByRole('button', { name: 'Send a new code' })).toBeDisabled();
		await request.post('/api/test/clock', { data: { advanceMs: 5 * 60_000 } });
		await page.getByLabel('6-digit code').fill(code);
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page.locator('#code-error')).toHaveText(
			'This code has expired — request a new one.'
		);
		await page.getByRole('button', { name: 'Send a new code' }).click();
		await expect.poll(() => latestCodeFor(request, email)).not.toBe(code);
		// The step shows the new code's wait once its answer is in; a code typed before is stale.
		await expect(page.locator('#code-error')).toHaveCount(0);
		await page.getByLabel('6-digit code').fill(await latestCodeFor(request, email));
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page).toHaveURL(/\/account/);
	});
});

test.describe('registration from the US with JavaScript off', () => {
	test.use({ ...inTheUs, javaScriptEnabled: false });

	test('R9: the server asks to confirm the country mismatch before sending a code', async ({
		page
	}) => {
		const email = uniqueEmail('nojs-mismatch');
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill(email);
		await page.getByLabel('Country you will use the account in').selectOption('CN');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await expect(page.locator('[data-code="ip_country_mismatch"]')).toContainText('United States');
		await page.getByLabel(/I understand/).check();
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, email));
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page.locator('[data-status]')).toHaveText('Under risk review');
	});
});
