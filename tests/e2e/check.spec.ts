import { strictPort } from '../../playwright.config';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';
import { latestCodeFor } from './outbox';

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
		await expect(result).toContainText('Not registered');
		await expect(result.getByRole('button', { name: 'Register this address' })).toBeVisible();
		// R15a: no "Verify it's you" for an unregistered address (a code to a stranger).
		await expect(page.getByRole('button', { name: 'Send me a code' })).toHaveCount(0);
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
			'Registered · active'
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
		// R9, R12: asked for every identifier, preselected from the network; a national number is
		// read in it.
		await expect(page.getByLabel('The country you mean to use')).toHaveValue('CN');
		await page.getByLabel('Email or phone number').fill('138 0013 8000');
		await expect(page.getByLabel('The country you mean to use')).toHaveValue('CN');
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
			'Not registered'
		);
		expect(page.url()).not.toContain(email.split('@')[0]!);
		await axe(page);
	});

	test('R13: a registered phone is found with the country picker', async ({ page, db }) => {
		db.insertAccount({ email: null, phone: '+14155550123' });
		await page.goto('/');
		await page.getByLabel('Email or phone number').fill('(415) 555-0123');
		await page.getByLabel('The country you mean to use').selectOption('US');
		await page.getByRole('button', { name: 'Check' }).click();
		await expect(page.getByRole('region', { name: 'Check result' })).toContainText('Registered');
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
			await expect(result).toContainText('Registered · active');
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

test.describe('the check reads and guides like a security product', () => {
	for (const javaScriptEnabled of [true, false]) {
		const js = `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;

		// English with JavaScript, Chinese without: the words of both languages, both paths.
		const locale = javaScriptEnabled ? 'en' : 'zh-CN';
		const words = {
			en: {
				refused: 'This email or phone number was checked too often. Try again in 10 min.',
				countdown: /You can try again in (10:00|9:\d\d), at \d\d:\d\d:\d\d/,
				other: 'You can check a different email or phone number now.'
			},
			'zh-CN': {
				refused: '该邮箱或手机号的检查次数过多。请在 10 分钟后重试。',
				countdown: /可在 (10:00|9:\d\d) 后重试（.*\d\d:\d\d:\d\d）/,
				other: '现在可以检查其他邮箱或手机号。'
			}
		}[locale];

		test(`R15: the identifier limit names itself and blocks only that identifier, ${js}, ${locale}`, async ({
			browser
		}) => {
			// The strict server allows 3 checks per identifier (playwright.config.ts).
			const base = `http://127.0.0.1:${strictPort}`;
			const ip = `8.8.${Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250) + 1}`;
			const context = await browser.newContext({
				baseURL: base,
				javaScriptEnabled,
				locale,
				extraHTTPHeaders: { 'x-forwarded-for': ip, 'accept-language': locale }
			});
			const page = await context.newPage();
			const limited = uniqueEmail('ck-limited');
			for (let i = 0; i < 3; i++)
				await context.request.post('/api/v1/check', { data: { identifier: limited } });
			await page.goto('/');
			const field = page.locator('#identifier');
			const button = page.locator('form.check-form button[type="submit"]');
			await field.fill(limited);
			await button.click();
			await expect(page.locator('[data-code="rate_limited"]')).toContainText(words.refused);
			await expect(page.locator('[data-retry-countdown]')).toContainText(words.countdown);
			await expect(page.locator('form.check-form [role="status"]')).toHaveAttribute(
				'aria-live',
				'polite'
			);
			await expect(page.getByText(words.other)).toBeVisible();
			if (javaScriptEnabled) await expect(button).toBeDisabled();
			await field.fill(uniqueEmail('ck-other'));
			await expect(button).toBeEnabled();
			await button.click();
			await expect(page.locator('article.report')).toBeVisible();
			await context.close();
		});

		test(`R9: the network's country by name, in en and zh-CN, ${js}`, async ({
			browser,
			baseURL,
			db
		}) => {
			const account = db.insertAccount({ email: uniqueEmail('ck-abroad'), country: 'CN' });
			for (const [locale, name] of [
				['en', 'United States'],
				['zh-CN', '美国']
			] as const) {
				const context = await browser.newContext({
					baseURL,
					javaScriptEnabled,
					locale,
					extraHTTPHeaders: { 'x-forwarded-for': '8.8.8.8', 'accept-language': locale }
				});
				const page = await context.newPage();
				await page.goto('/');
				await page.locator('#identifier').fill(account.email!);
				await page.locator('form.check-form button[type="submit"]').click();
				const warning = page.locator('[data-code="ip_country_mismatch"]');
				await expect(warning).toContainText(name);
				await expect(warning).not.toContainText(/\bUS\b/);
				await expect(warning).toHaveClass(/callout-attention/);
				await context.close();
			}
		});

		test(`R13: a pending registration is continued from the report, ${js}`, async ({
			browser,
			baseURL
		}) => {
			const context = await browser.newContext({
				baseURL,
				javaScriptEnabled,
				extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' }
			});
			const page = await context.newPage();
			const email = uniqueEmail('ck-registering');
			await page.goto('/register');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByLabel('Password').fill('a long and quiet river');
			await page.getByRole('button', { name: 'Send code' }).click();
			await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
			await page.goto('/');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByRole('button', { name: 'Check' }).click();
			const pending = page.locator('[data-code="code_pending"]');
			await expect(pending).toContainText('A code to finish creating your account');
			await expect(pending.locator('[data-code-countdown]')).toContainText(/[45]:\d\d left/);
			await expect(page.getByRole('button', { name: 'Register this address' })).toHaveCount(0);
			await page.getByRole('button', { name: 'Enter your code or get a new one' }).click();
			await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
			await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, email));
			await page.getByRole('button', { name: 'Create account' }).click();
			await expect(page).toHaveURL(/\/account/);
			await context.close();
		});

		test(`R13: the signed-in owner is not offered "Sign in", ${js}`, async ({
			browser,
			baseURL,
			db
		}) => {
			const context = await browser.newContext({
				baseURL,
				javaScriptEnabled,
				extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' }
			});
			const email = uniqueEmail('ck-owner');
			db.insertAccount({ email, password_hash: await hashPassword('a long and quiet river') });
			const res = await context.request.post('/api/v1/sessions', {
				data: { identifier: email, password: 'a long and quiet river' }
			});
			expect(res.status()).toBe(201);
			const page = await context.newPage();
			await page.goto('/');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByRole('button', { name: 'Check' }).click();
			const result = page.getByRole('region', { name: 'Check result' });
			await expect(result.locator('[data-verdict]')).toHaveText('Registered · active');
			await expect(result.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
			await expect(result.locator('[data-code="contact_change_quota"]')).toHaveAttribute(
				'data-level',
				'ok'
			);
			await context.close();
		});
	}
});
