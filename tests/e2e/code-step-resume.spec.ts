import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * Issue 26, findings 1 and 2, with and without JavaScript, at 390 px and on a desktop, in English
 * and Chinese: a code step comes back on a plain GET (a reload, a return from the mail app) from
 * the browser's own cookie, countdown included, without sending anything; another browser gets
 * nothing; the address shows in full as typed with "Wrong address? Change it"; a wrong code says
 * how many tries are left; focus lands on the new step; the check report's actions carry what was
 * checked by POST, never the URL, and "Enter your code" never sends a code.
 */
const PASSWORD = 'a long and quiet river';
let network = (Date.now() % 200) + 7;
const chinaNetwork = () => ({ 'x-forwarded-for': `1.0.${64 + (++network % 32)}.${network % 250}` });
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** How many messages the outbox holds for `to` (a GET that restores a step must add none). */
async function sentCount(request: APIRequestContext, to: string): Promise<number> {
	const res = await request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
	return ((await res.json()) as { messages: unknown[] }).messages.length;
}

/** axe in the light and the dark scheme (JavaScript off: the fixture's script-free copy, light). */
async function axeBothSchemes(page: Page, axe: (page: Page) => Promise<void>, js: boolean) {
	if (!js) return axe(page);
	for (const colorScheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme });
		const { violations } = await new AxeBuilder({ page }).analyze();
		expect(violations.map((v) => `${colorScheme} ${v.id}: ${v.help}`)).toEqual([]);
	}
	await page.emulateMedia({ colorScheme: 'light' });
}

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	for (const viewport of [
		{ width: 390, height: 844 },
		{ width: 1280, height: 800 }
	]) {
		test.describe(`code steps resume, JavaScript ${js}, ${viewport.width} px`, () => {
			test.use({ javaScriptEnabled, viewport });
			test.describe.configure({ timeout: 120_000 });
			test.beforeEach(async ({ context }) => {
				await context.setExtraHTTPHeaders(chinaNetwork());
			});

			test('R6: registration — a plain GET restores the step, nothing is sent; tries left; change it', async ({
				page,
				request,
				browser,
				axe
			}) => {
				const email = uniqueEmail('rs-reg');
				const typed = `  ${email.toUpperCase()}`;
				await page.goto('/register');
				await page.getByLabel('Email or phone number').fill(typed);
				await page.getByLabel('Password').fill(PASSWORD);
				await page.getByRole('button', { name: 'Send code' }).click();
				await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
				// Focus moves to the new step's field; the address is shown in full as typed.
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				await expect(page.locator('[data-code="sent_to"]')).toHaveText(
					`We sent a 6-digit code to ${email.toUpperCase()}.`
				);
				const expiresAt = await page.locator('[data-expires-at]').getAttribute('data-expires-at');
				const code = await latestCodeFor(request, email);
				expect(await sentCount(request, email)).toBe(1);

				// Coming back from the mail app: a plain GET of /register.
				await page.goto('/register');
				await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
				await expect(page.locator('[data-code="sent_to"]')).toContainText(email.toUpperCase());
				await expect(page.locator('[data-expires-at]')).toHaveAttribute(
					'data-expires-at',
					expiresAt!
				);
				await expect(page.locator('[data-code="resend_wait"]')).toHaveText(
					javaScriptEnabled
						? /You can request a new code in \d+ s/
						: /You can request a new code from \d{2}:\d{2}:\d{2}/
				);
				if (javaScriptEnabled)
					await expect(page.getByRole('button', { name: 'Send a new code' })).toBeDisabled();
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				expect(await sentCount(request, email)).toBe(1);
				expect(page.url()).not.toContain(email.split('@')[0]!);
				await axeBothSchemes(page, axe, javaScriptEnabled);

				// Another browser gets no step (the cookie is this browser's).
				const other = await browser.newContext({ javaScriptEnabled });
				const stranger = await other.newPage();
				await stranger.goto(`${new URL(page.url()).origin}/register`);
				await expect(stranger.getByRole('heading', { name: 'Create your account' })).toBeVisible();
				await expect(stranger.getByText(email, { exact: false })).toHaveCount(0);
				await other.close();

				// A wrong code says how many tries are left, and focus is back on the field.
				await page.getByLabel('6-digit code').fill(wrongCode(code));
				await page.getByRole('button', { name: 'Create account' }).click();
				await expect(page.locator('[data-code="attempts_left"]')).toHaveText(
					'4 tries left for this code.'
				);
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				await expect(page.getByLabel('6-digit code')).toHaveAttribute(
					'aria-describedby',
					'code-error code-tries'
				);

				// "Wrong address? Change it": the first step, filled in, its heading focused.
				await page.getByRole('button', { name: 'Wrong address? Change it' }).click();
				const heading = page.getByRole('heading', { name: 'Create your account' });
				await expect(heading).toBeFocused();
				await expect(page.getByLabel('Email or phone number')).toHaveValue(email.toUpperCase());
				// Changing it ends the resume: a GET shows the first step, still filled in.
				await page.goto('/register');
				await expect(heading).toBeVisible();
				await expect(page.getByLabel('Email or phone number')).toHaveValue(email.toUpperCase());
				expect(await sentCount(request, email)).toBe(1);
			});

			test('R6: a used code ends the resume (its cookie goes with the registration)', async ({
				page,
				request
			}) => {
				const email = uniqueEmail('rs-done');
				await page.goto('/register');
				await page.getByLabel('Email or phone number').fill(email);
				await page.getByLabel('Password').fill(PASSWORD);
				await page.getByRole('button', { name: 'Send code' }).click();
				await page.getByLabel('6-digit code').fill(await latestCodeFor(request, email));
				await page.getByRole('button', { name: 'Create account' }).click();
				await expect(page).toHaveURL(/\/account/);
				const cookies = await page.context().cookies();
				expect(cookies.map((c) => c.name)).not.toContain('code_step_register');
			});

			test('R18: forgot password — a plain GET restores the step; the address in full', async ({
				page,
				request,
				db
			}) => {
				const email = uniqueEmail('rs-forgot');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
				await page.goto('/forgot-password');
				await page.getByLabel('Email or phone number').fill(email);
				await page.getByRole('button', { name: 'Send code' }).click();
				await expect(page.locator('[data-code="sent_to"]')).toHaveText(`You entered ${email}.`);
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				await page.goto('/forgot-password');
				await expect(page.getByLabel('6-digit code')).toBeVisible();
				await expect(page.locator('[data-code="sent_to"]')).toHaveText(`You entered ${email}.`);
				expect(await sentCount(request, email)).toBe(1);
				await page.getByRole('button', { name: 'Wrong address? Change it' }).click();
				await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeFocused();
				await expect(page.getByLabel('Email or phone number')).toHaveValue(email);
			});

			test('R16: contact change — a plain GET restores the step with the new contact in full', async ({
				page,
				request,
				db
			}) => {
				const email = uniqueEmail('rs-contact');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
				await page.goto('/login');
				await page.getByLabel('Email or phone number').fill(email);
				await page.getByLabel('Password').fill(PASSWORD);
				await page.getByRole('button', { name: 'Sign in' }).click();
				await expect(page).toHaveURL(/\/account$/);
				await page.goto('/account/contact');
				const next = uniqueEmail('rs-contact-new');
				await page.getByLabel('Current password').fill(PASSWORD);
				await page.getByLabel('New email or phone number').fill(next);
				await page.getByRole('button', { name: 'Send code to the new contact' }).click();
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				await page.goto('/account/contact');
				await expect(page.locator('[data-code="sent_to"]')).toHaveText(
					`We sent a code to ${next}. Enter it to finish the change.`
				);
				expect(await sentCount(request, next)).toBe(1);
				await page.getByLabel('6-digit code').fill(await latestCodeFor(request, next));
				await page.getByRole('button', { name: 'Change contact' }).click();
				await expect(page.getByRole('status').filter({ hasText: /changed/i })).toBeVisible();
				// The used code ends the resume.
				await page.goto('/account/contact');
				await expect(page.getByLabel('6-digit code')).toHaveCount(0);
			});

			test('R6, R14: the check report carries what was checked by POST; "Enter your code" sends nothing', async ({
				page,
				request
			}) => {
				const email = uniqueEmail('rs-check');
				const check = async () => {
					await page.goto('/');
					await page.getByLabel('Email or phone number').fill(email);
					await page.getByRole('button', { name: 'Check' }).click();
				};
				await check();
				const register = page.waitForRequest((r) => r.url().includes('/register'));
				await page.getByRole('button', { name: 'Register this address' }).click();
				const posted = await register;
				expect(posted.method()).toBe('POST');
				expect(posted.url()).not.toContain(email.split('@')[0]!);
				await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
				await expect(page.getByLabel('Email or phone number')).toHaveValue(email);
				await page.getByLabel('Password').fill(PASSWORD);
				await page.getByRole('button', { name: 'Send code' }).click();
				await expect(page.getByLabel('6-digit code')).toBeVisible();
				expect(await sentCount(request, email)).toBe(1);

				await check();
				await page.getByRole('button', { name: 'Enter your code or get a new one' }).click();
				await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
				await expect(page.getByLabel('6-digit code')).toBeFocused();
				await expect(page.locator('#code-error')).toHaveCount(0);
				await expect(page.locator('[data-code="resend_wait"]')).toContainText(
					'You can request a new code'
				);
				expect(await sentCount(request, email)).toBe(1);
				await page.getByLabel('6-digit code').fill(await latestCodeFor(request, email));
				await page.getByRole('button', { name: 'Create account' }).click();
				await expect(page).toHaveURL(/\/account/);
			});
		});
	}

	test.describe(`code steps resume in Chinese, JavaScript ${js}`, () => {
		test.use({ javaScriptEnabled, locale: 'zh-CN', viewport: { width: 390, height: 844 } });
		test.describe.configure({ timeout: 120_000 });

		test('R6: the step, its address and its tries read in Chinese; axe light and dark', async ({
			page,
			context,
			request,
			axe
		}) => {
			await context.setExtraHTTPHeaders({ 'accept-language': 'zh-CN,zh;q=0.9', ...chinaNetwork() });
			const email = uniqueEmail('rs-zh');
			await page.goto('/register');
			await page.locator('#identifier').fill(email);
			await page.locator('#password').fill(PASSWORD);
			await page.locator('form[action="?/start"] button[type="submit"]').click();
			await expect(page.locator('[data-code="sent_to"]')).toHaveText(
				`我们已向 ${email} 发送了 6 位数字验证码。`
			);
			await page.goto('/register');
			await expect(page.locator('[data-code="sent_to"]')).toContainText(email);
			await expect(page.getByRole('button', { name: '地址有误？修改' })).toBeVisible();
			await page.locator('#code').fill(wrongCode(await latestCodeFor(request, email)));
			await page.locator('form[action="?/confirm"] button[type="submit"]').click();
			await expect(page.locator('[data-code="attempts_left"]')).toHaveText(
				'此验证码还剩 4 次机会。'
			);
			await axeBothSchemes(page, axe, javaScriptEnabled);
		});
	});
}
