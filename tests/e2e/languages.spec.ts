import { expect, test } from './fixtures';

test.describe('languages (en, zh-CN)', () => {
	test.use({ locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' } });

	test('Accept-Language picks Simplified Chinese; the check answers in Chinese', async ({
		page,
		axe
	}) => {
		await page.goto('/');
		await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('检查您的账户');
		await page.getByLabel('邮箱或手机号码').fill('zhang.wei@example.com');
		await page.getByRole('button', { name: '检查' }).click();
		await expect(page.getByRole('region', { name: '检查结果' })).toContainText('尚未注册');
		await axe(page);
	});

	test('API errors come in the request language', async ({ request }) => {
		const res = await request.post('/api/v1/check', { data: { identifier: 'john.gmail.com' } });
		expect(res.status()).toBe(400);
		const body = await res.json();
		expect(body.error.code).toBe('invalid_identifier');
		expect(body.error.message).toContain('邮箱地址格式不正确');
	});

	test.describe('with JavaScript off', () => {
		test.use({ javaScriptEnabled: false });

		test('switching to English is remembered across pages', async ({ page }) => {
			await page.goto('/');
			await page.getByLabel('语言').selectOption('en');
			await page.getByRole('button', { name: '切换' }).click();
			await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your account');
			await page.goto('/');
			await expect(page.locator('html')).toHaveAttribute('lang', 'en');
		});
	});
});

test('the language switch never redirects off-site', async ({ request, baseURL }) => {
	const res = await request.post('/locale', {
		form: { locale: 'en', returnTo: '//evil.example/' },
		maxRedirects: 0,
		headers: { origin: baseURL! }
	});
	expect(res.status()).toBe(303);
	expect(res.headers()['location']).toBe('/');
});
