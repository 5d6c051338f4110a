import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

const PASSWORD = 'a long and quiet river';
const IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WINDOWS_FIREFOX =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

const text = {
	en: {
		heading: 'Where you are signed in',
		signOutPhone: 'Sign out Safari on iOS',
		revoked: 'That session was signed out.',
		others: 'Sign out everywhere else',
		othersDone: 'Signed out everywhere else (1 sessions).',
		onlyHere: 'You are signed in only here.'
	},
	'zh-CN': {
		heading: '登录设备',
		signOutPhone: '退出 iOS 上的 Safari',
		revoked: '该会话已退出。',
		others: '退出其他所有设备',
		othersDone: '已退出其他所有设备（1 个会话）。',
		onlyHere: '您只在本设备上登录。'
	}
} as const;

for (const locale of ['en', 'zh-CN'] as const) {
	for (const javaScriptEnabled of [true, false]) {
		test.describe(`the sessions page in ${locale}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('signs another browser out, then every other browser', async ({
				page,
				browser,
				db,
				axe
			}) => {
				const t = text[locale];
				const email = uniqueEmail('sessions-e2e');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD), locale });
				const signIn = async (request: typeof page.request) =>
					expect(
						(
							await request.post('/api/v1/sessions', {
								data: { identifier: email, password: PASSWORD }
							})
						).status()
					).toBe(201);
				await signIn(page.request);
				const phone = await browser.newContext({ userAgent: IPHONE });
				const laptop = await browser.newContext({ userAgent: WINDOWS_FIREFOX });
				try {
					await signIn(phone.request);
					await signIn(laptop.request);

					await page.goto('/account/security/sessions');
					await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.heading);
					await expect(page.locator('[data-session]')).toHaveCount(3);
					await expect(page.locator('[data-current]')).toHaveCount(1);
					await axe(page);

					await page.getByRole('button', { name: t.signOutPhone }).click();
					await expect(page.getByRole('status')).toHaveText(t.revoked);
					await expect(page.locator('[data-session]')).toHaveCount(2);
					expect((await phone.request.get('/api/v1/account')).status()).toBe(401);
					expect((await laptop.request.get('/api/v1/account')).status()).toBe(200);
					await axe(page);

					await page.getByRole('button', { name: t.others }).click();
					await expect(page.getByRole('status')).toHaveText(t.othersDone);
					await expect(page.getByText(t.onlyHere)).toBeVisible();
					expect((await laptop.request.get('/api/v1/account')).status()).toBe(401);
					expect((await page.request.get('/api/v1/account')).status()).toBe(200);
					await axe(page);
				} finally {
					await phone.close();
					await laptop.close();
				}
			});
		});
	}
}
