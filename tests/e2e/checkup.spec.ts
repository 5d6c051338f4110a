import type { APIRequestContext, Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { appCode } from '../support/two-step';
import { expect, ready, test } from './fixtures';

/** §7c: the security checkup, driven by real state changes (docs/rules.md §7c). */
const PASSWORD = 'a long and quiet river';
const DAY = 86_400_000;

async function serverClock(request: APIRequestContext) {
	const res = await request.post('/api/test/clock', { data: { advanceMs: 0 } });
	const { now } = (await res.json()) as { now: string };
	const offset = new Date(now).getTime() - Date.now();
	return { now: () => new Date(Date.now() + offset) };
}

const EN = {
	identifier: 'Email or phone number',
	password: 'Password',
	signIn: 'Sign in',
	checkup: 'Security checkup',
	setUp: 'Set up an authenticator app',
	code: 'Six-digit code from the app',
	turnOn: 'Turn on',
	fixTwoStep: 'Turn on two-step verification',
	fixCodes: 'Make new recovery codes',
	back: 'Back to the security checkup',
	two: '2 things to do',
	one: '1 thing to do'
};
const ZH = {
	identifier: '邮箱或手机号码',
	password: '密码',
	signIn: '登录',
	checkup: '安全检查',
	setUp: '设置身份验证器应用',
	code: '应用中的六位验证码',
	turnOn: '开启',
	fixTwoStep: '开启两步验证',
	fixCodes: '生成新的恢复码',
	back: '返回安全检查',
	two: '有 2 项待处理',
	one: '有 1 项待处理'
};

async function signIn(page: Page, email: string, labels: typeof EN) {
	await page.goto('/login');
	await page.getByLabel(labels.identifier).fill(email);
	await page.getByLabel(labels.password, { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: labels.signIn, exact: true }).click();
	await expect(page).toHaveURL(/\/account$/);
}

const item = (page: Page, code: string) => page.locator(`li[data-item="${code}"]`);

for (const javaScriptEnabled of [true, false]) {
	for (const [locale, labels] of [
		['en', EN],
		['zh-CN', ZH]
	] as const) {
		test.describe(`security checkup, JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${locale}`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('signed out → sign-in; an old password and two-step off are to do; turning TOTP on clears one', async ({
				page,
				db,
				axe,
				request,
				playwright
			}) => {
				await page.goto('/account/security');
				await expect(page).toHaveURL(/\/login$/);

				const clock = await serverClock(request);
				const account = db.insertAccount({
					email: uniqueEmail('checkup'),
					password_hash: await hashPassword(PASSWORD),
					created_at: clock.now().getTime() - 400 * DAY
				});
				await signIn(page, account.email!, labels);
				await page.getByRole('link', { name: labels.checkup, exact: true }).click();
				await expect(page).toHaveURL(/\/account\/security$/);
				await ready(page, javaScriptEnabled);
				await expect(page.getByRole('heading', { level: 1 })).toHaveText(labels.checkup);
				await expect(page.locator('[data-verdict]')).toHaveText(labels.two);
				await expect(page.getByRole('list').locator('li[data-item]')).toHaveCount(5);
				await expect(item(page, 'two_step')).toHaveAttribute('data-done', 'false');
				await expect(item(page, 'password_age')).toHaveAttribute('data-done', 'false');
				await expect(item(page, 'sessions')).toHaveAttribute('data-done', 'true');
				await expect(item(page, 'contact')).toHaveAttribute('data-done', 'true');
				await expect(item(page, 'events')).toHaveAttribute('data-done', 'true');
				await axe(page);
				if (process.env.DOCS_SCREENSHOTS === '1' && javaScriptEnabled)
					await page.screenshot({
						path: `docs/screenshots/checkup.${locale}.png`,
						fullPage: true
					});

				// The two-step item's link leads to its fix; TOTP on with a code computed here.
				await item(page, 'two_step').getByRole('link', { name: labels.fixTwoStep }).click();
				await expect(page).toHaveURL(/\/account\/security\/two-step$/);
				await ready(page, javaScriptEnabled);
				await page.locator('#start-password').fill(PASSWORD);
				await page.getByRole('button', { name: labels.setUp }).click();
				const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
				await page.getByLabel(labels.code).fill(appCode(secret, await serverClock(request)));
				await page.getByRole('button', { name: labels.turnOn }).click();
				await expect(page.locator('[data-two-step="on"]')).toBeVisible();
				const codes = await page.getByTestId('recovery-codes').locator('code').allTextContents();

				await page.getByRole('link', { name: labels.back }).click();
				await expect(page).toHaveURL(/\/account\/security$/);
				await expect(page.locator('[data-verdict]')).toHaveText(labels.one);
				await expect(item(page, 'two_step')).toHaveAttribute('data-done', 'true');
				await expect(item(page, 'password_age')).toHaveAttribute('data-done', 'false');
				await axe(page);

				// §7c: with 3 recovery codes left the checkup warns and links to make new ones.
				await expect(item(page, 'recovery_codes')).toHaveAttribute('data-done', 'true');
				for (const code of codes.slice(0, 7)) {
					const other = await playwright.request.newContext({ baseURL: page.url() });
					await other.post('/api/v1/sessions', {
						data: { identifier: account.email, password: PASSWORD }
					});
					const used = await other.post('/api/v1/sessions/second-factor', {
						data: { code: code.trim() }
					});
					expect(used.status()).toBe(201);
					await other.dispose();
				}
				await page.reload();
				await expect(item(page, 'recovery_codes')).toHaveAttribute('data-done', 'false');
				await item(page, 'recovery_codes').getByRole('link', { name: labels.fixCodes }).click();
				await expect(page).toHaveURL(/\/account\/security\/two-step#totp-heading$/);
				await axe(page);
			});
		});
	}
}
