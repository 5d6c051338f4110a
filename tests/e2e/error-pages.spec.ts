import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** The error pages keep the site's frame (header, language switch, footer) and a way home. */
async function expectFrame(page: Page, home: string) {
	await expect(page.locator('header.site-header')).toBeVisible();
	await expect(page.locator('footer.site-footer')).toBeVisible();
	await expect(page.getByRole('main').getByRole('link', { name: home })).toHaveAttribute(
		'href',
		'/'
	);
}

for (const javaScriptEnabled of [true, false]) {
	test.describe(`error pages, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({ javaScriptEnabled });

		test('a 404 says the page is not there, in the frame, with a link home', async ({
			page,
			axe
		}) => {
			const response = await page.goto('/no-such-page');
			expect(response?.status()).toBe(404);
			await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
			await expectFrame(page, 'Go to the security check');
			await expect(page.locator('[data-request-id]')).toHaveCount(0);
			await axe(page);
		});

		test('a 500 names its request id (the x-request-id of the log line)', async ({ page, axe }) => {
			const response = await page.goto('/api/test/server-error');
			expect(response?.status()).toBe(500);
			const requestId = response!.headers()['x-request-id']!;
			expect(requestId).toMatch(/^[\w.-]{8,64}$/);
			await expect(page.getByRole('heading', { level: 1 })).toHaveText('Something went wrong');
			await expect(page.locator('[data-request-id]')).toHaveText(requestId);
			await expectFrame(page, 'Go to the security check');
			await axe(page);
		});
	});
}

test.describe('error pages in Chinese', () => {
	test.use({ locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' } });

	test('404 and 500 read in the reader’s language', async ({ page }) => {
		await page.goto('/no-such-page');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('找不到页面');
		await expectFrame(page, '前往安全检查');
		const response = await page.goto('/api/test/server-error');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('出错了');
		await expect(page.locator('[data-request-id]')).toHaveText(
			response!.headers()['x-request-id']!
		);
	});
});
