import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

test.describe('security check with JavaScript on (R14: JSON API, no page load)', () => {
	test('R13: an unknown email is not registered', async ({ page, axe }) => {
		await page.goto('/');
		await axe(page);
		const email = uniqueEmail('nobody');
		let navigations = 0;
		page.on('framenavigated', () => navigations++);
		await page.getByLabel('Email or phone number').fill(email);
		const apiCall = page.waitForResponse((r) => r.url().endsWith('/api/v1/check'));
		await page.getByRole('button', { name: 'Check' }).click();
		expect((await apiCall).status()).toBe(200);
		const result = page.getByRole('region', { name: 'Check result' });
		await expect(result).toContainText('is not registered');
		await expect(result.getByRole('link', { name: 'Register this address' })).toBeVisible();
		expect(navigations).toBe(0);
		expect(page.url()).not.toContain(email.split('@')[0]!);
		await axe(page);
	});

	test('R13: an account inserted by the test is registered', async ({ page, db }) => {
		const account = db.insertAccount({ email: uniqueEmail('member') });
		await page.goto('/');
		await page.getByLabel('Email or phone number').fill(account.email!.toUpperCase());
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByRole('region', { name: 'Check result' })).toContainText(
			'is registered (active)'
		);
	});

	test('R1: a malformed email is explained next to the field', async ({ page, axe }) => {
		await page.goto('/');
		await page.getByLabel('Email or phone number').fill('john.gmail.com');
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByText(/This email address is not valid/)).toBeVisible();
		await expect(page.getByLabel('Email or phone number')).toHaveAttribute('aria-invalid', 'true');
		await axe(page);
	});

	test('R9 groundwork: the country is preselected from the request IP', async ({
		browser,
		baseURL
	}) => {
		const context = await browser.newContext({
			baseURL,
			extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' }
		});
		const page = await context.newPage();
		await page.goto('/');
		await expect(page.getByLabel(/Country of the phone number/)).toHaveValue('CN');
		await page.getByLabel('Email or phone number').fill('138 0013 8000');
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByRole('region', { name: 'Check result' })).toContainText(
			'+86 138****8000'
		);
		await context.close();
	});
});

test.describe('security check with JavaScript off (R14: form action, server-rendered)', () => {
	test.use({ javaScriptEnabled: false });

	test('R13: an unknown email is not registered, and the identifier is not in the URL', async ({
		page,
		axe
	}) => {
		await page.goto('/');
		const email = uniqueEmail('nojs');
		await page.getByLabel('Email or phone number').fill(email);
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByRole('region', { name: 'Check result' })).toContainText(
			'is not registered'
		);
		expect(page.url()).not.toContain(email.split('@')[0]!);
		await axe(page);
	});

	test('R13: a registered phone is found with the country picker', async ({ page, db }) => {
		db.insertAccount({ email: null, phone: '+14155550123' });
		await page.goto('/');
		await page.getByLabel('Email or phone number').fill('(415) 555-0123');
		await page.getByLabel(/Country of the phone number/).selectOption('US');
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByRole('region', { name: 'Check result' })).toContainText('is registered');
	});

	test('R1: a malformed email gets its message from the server', async ({ page }) => {
		await page.goto('/');
		await page.getByLabel('Email or phone number').fill('john@');
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByText(/This email address is not valid/)).toBeVisible();
	});
});

test('API (docs/api.md): the test-hooks banner shows while hooks are on', async ({ page }) => {
	await page.goto('/');
	await expect(page.getByRole('alert')).toContainText('Test hooks are ON');
});

test.describe("R15a verify it's you", () => {
	for (const javaScriptEnabled of [true, false]) {
		test(`shows the verified tier after a check code, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async ({
			browser,
			baseURL,
			db
		}) => {
			const context = await browser.newContext({
				baseURL,
				javaScriptEnabled,
				extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' }
			});
			const page = await context.newPage();
			const account = db.insertAccount({ email: uniqueEmail('verify') });
			await page.goto('/');
			await page.getByLabel('Email or phone number').fill(account.email!);
			await page.getByRole('button', { name: 'Check' }).click();
			const result = page.getByRole('region', { name: 'Check result' });
			await expect(result).toContainText('is registered (active)');
			await expect(result).not.toContainText('Contact changes');
			await page.getByRole('button', { name: 'Send me a code' }).click();
			await expect(page.getByText('a code is on its way')).toBeVisible();
			const res = await page.request.get(
				`/api/test/outbox?to=${encodeURIComponent(account.email!)}`
			);
			const { messages } = await res.json();
			await page.getByLabel('Code from the message').fill(messages[0].code);
			await page.getByRole('button', { name: 'Show details' }).click();
			await expect(result).toContainText('Verified: you proved control');
			await expect(result).toContainText('0 of 2 changes used in the last 180 days');
			await context.close();
		});
	}
});
