import type { Page, Request } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueCnMobile, uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

/**
 * R14 (what was typed is never in a URL): the check report's "Sign in", "Appeal" and, for the
 * signed-in owner, "Change the bound email or phone" carry what was checked to the next page in a
 * form POST, JavaScript on and off, in English and Chinese. Sign in and Appeal fill their first
 * field; the contact page names the contact being replaced and leaves the new one empty.
 */
const PASSWORD = 'a long and quiet river';
let network = (Date.now() % 200) + 11;
const chinaNetwork = () => ({ 'x-forwarded-for': `1.0.${96 + (++network % 32)}.${network % 250}` });

const words = {
	en: {
		identifier: 'Email or phone number',
		check: 'Check',
		password: 'Password',
		signIn: 'Sign in',
		lost: 'Email or phone you lost',
		contactHeading: 'Change the bound email or phone',
		newContact: 'New email or phone number',
		replacing: (contact: string) => `You checked ${contact}, a contact bound to this account.`
	},
	'zh-CN': {
		identifier: '邮箱或手机号码',
		check: '检查',
		password: '密码',
		signIn: '登录',
		lost: '您丢失的邮箱或手机号',
		contactHeading: '更换绑定的邮箱或手机号',
		newContact: '新的邮箱或手机号码',
		replacing: (contact: string) => `你检查的是 ${contact}，它已绑定到此账户。`
	}
} as const;
type Lang = keyof typeof words;

/** Checks `identifier` on the home page (a country only for a number without +country code). */
async function check(page: Page, lang: Lang, identifier: string, country?: string) {
	await page.goto('/');
	await page.getByLabel(words[lang].identifier, { exact: true }).fill(identifier);
	if (country) await page.locator('#country').selectOption(country);
	await page.getByRole('button', { name: words[lang].check, exact: true }).click();
	await expect(page.locator('article.report')).toBeVisible();
}

/** Signs in on the sign-in page with the password alone, and lands on the account page. */
async function signIn(page: Page, lang: Lang, email: string) {
	await page.goto('/login');
	await page.getByLabel(words[lang].identifier, { exact: true }).fill(email);
	await page.getByLabel(words[lang].password, { exact: true }).fill(PASSWORD);
	await page.locator('form[action="?/signIn"] button[type="submit"]').click();
	await expect(page).toHaveURL(/\/account$/);
}

/** Clicks a report step and answers the request it made: a POST whose URL holds nothing typed. */
async function follow(page: Page, action: string, path: string, typed: string): Promise<Request> {
	const sent = page.waitForRequest((r) => new URL(r.url()).pathname === path);
	await page.locator(`[data-action="${action}"] button[type="submit"]`).click();
	const request = await sent;
	expect(request.method()).toBe('POST');
	const telltale = typed.trim().toLowerCase().slice(0, 8);
	expect(request.url().toLowerCase()).not.toContain(telltale);
	expect(new URLSearchParams(request.postData() ?? '').get('identifier')).toBe(typed);
	await page.waitForURL((url) => url.pathname === path);
	expect(page.url().toLowerCase()).not.toContain(telltale);
	return request;
}

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	for (const lang of ['en', 'zh-CN'] as const) {
		const t = words[lang];
		test.describe(`R14: the check report carries what was checked, JavaScript ${js}, ${lang}`, () => {
			test.use({ javaScriptEnabled, locale: lang });
			test.describe.configure({ timeout: 120_000 });
			test.beforeEach(async ({ context }) => {
				await context.setExtraHTTPHeaders({
					'accept-language': lang === 'en' ? 'en' : 'zh-CN,zh;q=0.9',
					...chinaNetwork()
				});
			});

			test('R14: "Sign in" opens the sign-in page with the identifier filled (a POST, never the URL)', async ({
				page,
				db
			}) => {
				const email = uniqueEmail('carry-login');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
				const typed = `  ${email.toUpperCase()}`;
				await check(page, lang, typed);
				await follow(page, 'sign_in', '/login', typed);
				await expect(page.getByRole('heading', { name: t.signIn, level: 1 })).toBeVisible();
				// What was typed, as typed (the sign-in form trims and folds it itself).
				await expect(page.getByLabel(t.identifier, { exact: true })).toHaveValue(typed);
				await expect(page.getByRole('main').getByRole('alert')).toHaveCount(0);
				// The filled form signs in as it would have with the address typed by hand.
				await page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
				await page.locator('form[action="?/signIn"] button[type="submit"]').click();
				await expect(page).toHaveURL(/\/account$/);
			});

			test('R14/R19: "Appeal" opens the appeal form with the lost email or phone filled', async ({
				page,
				db
			}) => {
				const phone = uniqueCnMobile();
				db.insertAccount({ phone, email: null, password_hash: await hashPassword(PASSWORD) });
				const national = phone.replace('+86', '');
				await check(page, lang, national, 'CN');
				await follow(page, 'appeal', '/appeal', national);
				await expect(page.getByLabel(t.lost, { exact: true })).toHaveValue(national);
				await expect(page.locator('form[action="?/submit"] #country')).toHaveValue('CN');
				await expect(page.getByRole('main').getByRole('alert')).toHaveCount(0);
			});

			test('R14/R16: "Change the bound email or phone" (signed-in owner) names the contact being replaced', async ({
				page,
				db
			}) => {
				const email = uniqueEmail('carry-contact');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
				await signIn(page, lang, email);
				await check(page, lang, email);
				// Only someone else is offered "Sign in"; the owner is offered the change.
				await expect(page.locator('[data-action="sign_in"]')).toHaveCount(0);
				await follow(page, 'change_contact', '/account/contact', email);
				await expect(page.getByRole('heading', { name: t.contactHeading, level: 1 })).toBeVisible();
				await expect(page.locator('[data-replacing]')).toContainText(t.replacing(email));
				// The checked contact is the one replaced, never offered as the new one.
				await expect(page.getByLabel(t.newContact, { exact: true })).toHaveValue('');
			});
		});
	}
}

test.describe("R14: the contact page trusts nothing posted beyond naming the account's own contact", () => {
	test.beforeEach(async ({ context }) => {
		await context.setExtraHTTPHeaders(chinaNetwork());
	});
	test("R14: a posted value that is not this account's contact is not named; a too-long one is refused", async ({
		page,
		db
	}) => {
		const email = uniqueEmail('carry-other');
		db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
		await signIn(page, 'en', email);
		const post = (form: Record<string, string>) =>
			page.request.post('/account/contact?/fromCheck', {
				form,
				headers: { origin: new URL(page.url()).origin, accept: 'application/json' }
			});
		const stranger = await post({ identifier: uniqueEmail('not-mine') });
		expect(stranger.status()).toBe(200);
		expect(await stranger.text()).not.toContain('not-mine');
		const tooLong = await post({ identifier: `${'a'.repeat(400)}@example.com` });
		expect(await tooLong.text()).toContain('invalid_request');
	});
});
