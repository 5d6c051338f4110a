import type { APIRequestContext, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * R6 on every code step (registration, forgot password, contact change), with and without
 * JavaScript: the expiry as a clock time, a resend that answers with the wait when early and
 * sends a new code after it, start over, and the warning when a code has one try left.
 */
const PASSWORD = 'a long and quiet river';
const NEW_PASSWORD = 'another calm and long sentence';
const passwordHash = hashPassword(PASSWORD);

// Each test on a network of its own (all in China), so R18's per-network caps never add up.
let network = Date.now() % 200;
const chinaNetwork = () => ({ 'x-forwarded-for': `1.0.${32 + (++network % 32)}.${network % 250}` });

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** Moves the server's test clock, and with JavaScript the page's too, so its countdowns follow. */
async function advance(page: Page, request: APIRequestContext, ms: number, js: boolean) {
	await request.post('/api/test/clock', { data: { advanceMs: ms } });
	if (js) await page.clock.fastForward(ms);
}

async function serverNow(request: APIRequestContext): Promise<number> {
	const res = await request.post('/api/test/clock', { data: { advanceMs: 0 } });
	return Date.parse(((await res.json()) as { now: string }).now);
}

/** The shared step: the expiry's clock time is there; resend is early, then works after 60 s. */
async function expectRecoverableStep(
	page: Page,
	request: APIRequestContext,
	to: string,
	js: boolean
): Promise<string> {
	const expiry = page.locator('[data-code="code_expiry"] [data-expires-at]');
	await expect(expiry).toHaveText(/^Valid until \d{2}:\d{2}:\d{2}/);
	const expiresAt = await expiry.getAttribute('data-expires-at');
	expect(Date.parse(expiresAt!) - (await serverNow(request))).toBeGreaterThan(4 * 60_000);
	await expect(page.getByLabel('6-digit code')).toHaveAttribute('autocomplete', 'one-time-code');
	await expect(page.getByLabel('6-digit code')).toHaveAttribute('inputmode', 'numeric');
	const first = await latestCodeFor(request, to);
	const resend = page.getByRole('button', { name: 'Send a new code' });
	if (js) {
		await expect(page.locator('[data-code="code_expiry"]')).toContainText(/expires in [45]:\d\d/);
		await expect(resend).toBeDisabled();
		await expect(page.locator('[data-code="resend_wait"]')).toHaveText(
			/You can request a new code in \d+ s/
		);
	} else {
		await expect(page.locator('[data-code="resend_wait"]')).toHaveText(
			/You can request a new code from \d{2}:\d{2}:\d{2}/
		);
		await resend.click();
		await expect(page.locator('#code-error')).toHaveText(
			/You can request a new code in \d+ seconds/
		);
		await expect(page.locator('#code-error')).toHaveAttribute('data-code', 'rate_limited');
	}
	await advance(page, request, 61_000, js);
	await expect(resend).toBeEnabled();
	await resend.click();
	await expect.poll(() => latestCodeFor(request, to)).not.toBe(first);
	// The new code's expiry replaced the old one's, still shown as a clock time.
	await expect(expiry).not.toHaveAttribute('data-expires-at', expiresAt!);
	await expect(page.locator('#code-error')).toHaveCount(0);
	return latestCodeFor(request, to);
}

/** R6: every wrong try says how many are left (R6), and the fifth is announced as the last. */
async function expectLastTryWarning(page: Page, code: string, fill?: () => Promise<void>) {
	const warning = page.locator('[data-code="attempts_left"]');
	await expect(warning).toHaveCount(0);
	for (let i = 0; i < 4; i++) {
		if (i > 0) await expect(warning).toHaveText(`${5 - i} tries left for this code.`);
		await page.getByLabel('6-digit code').fill(wrongCode(code));
		await fill?.();
		await Promise.all([
			page.waitForResponse((r) => r.request().method() === 'POST'),
			page.getByRole('button', { name: /Create account|Set new password|Change contact/ }).click()
		]);
		await expect(page.locator('#code-error')).toHaveAttribute('data-code', 'code_invalid');
	}
	await expect(warning).toHaveText(/One try left for this code/);
	await expect(page.getByLabel('6-digit code')).toHaveAttribute(
		'aria-describedby',
		'code-error code-tries'
	);
}

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	test.describe(`code steps with JavaScript ${js}`, () => {
		test.use({ javaScriptEnabled, timezoneId: 'Asia/Shanghai' });
		test.beforeEach(async ({ page, context }) => {
			await context.setExtraHTTPHeaders(chinaNetwork());
			if (javaScriptEnabled) await page.clock.install();
		});

		test('R6/R8: registration — restart inside the cooldown shows the wait; resend, last try, start over', async ({
			page,
			request,
			axe
		}) => {
			const email = uniqueEmail('cs-reg');
			const start = async () => {
				await page.getByLabel('Email or phone number').fill(email);
				await page.getByLabel('Password').fill(PASSWORD);
				await page.getByRole('button', { name: 'Send code' }).click();
			};
			await page.goto('/register');
			await expect(page.getByText('Already have an account?')).toBeVisible();
			await expect(page.getByText('No account yet?')).toHaveCount(0);
			await start();
			const code = await expectRecoverableStep(page, request, email, javaScriptEnabled);
			await axe(page);
			await expectLastTryWarning(page, code);
			await expect(page.getByText(/We sent a 6-digit code to/)).toBeVisible();
			await axe(page);
			await page.getByRole('button', { name: 'Wrong address? Change it' }).click();
			await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
			// The code just sent is not 60 s old: starting again answers with the wait, not silence.
			await start();
			await expect(page.locator('[role="alert"][data-code="rate_limited"]')).toHaveText(
				/You can request a new code in \d+ seconds/
			);
		});

		test('R6/R18: forgot password — asking again shows the wait; resend, expiry, last try, start over', async ({
			page,
			request,
			db
		}) => {
			const email = uniqueEmail('cs-forgot');
			db.insertAccount({ email, password_hash: await passwordHash });
			const ask = async () => {
				await page.getByLabel('Email or phone number').fill(email);
				await page.getByRole('button', { name: 'Send code' }).click();
			};
			await page.goto('/forgot-password');
			await ask();
			await expect(page.getByText(/If an account uses this email or phone/)).toBeVisible();
			const code = await expectRecoverableStep(page, request, email, javaScriptEnabled);
			await expectLastTryWarning(page, code, () =>
				page.getByLabel('New password').fill(NEW_PASSWORD)
			);
			await page.getByRole('button', { name: 'Wrong address? Change it' }).click();
			await expect(page.getByLabel('6-digit code')).toHaveCount(0);
			await ask();
			await expect(page.locator('[role="alert"][data-code="rate_limited"]')).toHaveText(
				/You can request a new code in \d+ seconds/
			);
		});

		test('R6/R16: contact change — resend, last try, start over', async ({ page, request, db }) => {
			const email = uniqueEmail('cs-change');
			db.insertAccount({ email, password_hash: await passwordHash });
			await page.goto('/login');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
			await page.goto('/account/contact');
			const next = uniqueEmail('cs-changed');
			await page.getByLabel('Current password').fill(PASSWORD);
			await page.getByLabel('New email or phone number').fill(next);
			await page.getByRole('button', { name: 'Send code to the new contact' }).click();
			await expect(page.getByText(/We sent a code to/)).toBeVisible();
			const code = await expectRecoverableStep(page, request, next, javaScriptEnabled);
			await expect(page.getByText(/We sent a code to/)).toBeVisible();
			await expectLastTryWarning(page, code);
			// After wrong tries the step still says where the code went.
			await expect(page.getByText(/We sent a code to/)).toBeVisible();
			await page.getByRole('button', { name: 'Wrong address? Change it' }).click();
			await expect(page.getByLabel('Current password')).toBeEnabled();
		});

		test('R16: the contact form is disabled with the reason and the date while the quota blocks it', async ({
			page,
			request,
			db,
			axe
		}) => {
			const email = uniqueEmail('cs-blocked');
			const account = db.insertAccount({ email, password_hash: await passwordHash });
			const changedAt = (await serverNow(request)) - 2 * 86_400_000;
			db.insert('contact_changes', {
				id: randomUUID(),
				account_id: account.id,
				kind: 'owner',
				old_identifier: uniqueEmail('cs-old'),
				new_identifier: email,
				changed_at: changedAt
			});
			await page.goto('/login');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
			await page.goto('/account/contact');
			const notice = page.locator('[data-code="change_too_soon"]');
			const day = new Intl.DateTimeFormat('en', {
				month: 'short',
				day: 'numeric',
				// Issue 26: JavaScript off too, the server renders in the zone of the network (China).
				timeZone: 'Asia/Shanghai'
			}).format(changedAt + 7 * 86_400_000);
			await expect(notice).toContainText('You cannot change your contact right now.');
			await expect(notice).toContainText(`from ${day}`);
			await expect(notice).toContainText('at least 7 days apart');
			await expect(notice).not.toContainText(/\d{4}-\d{2}-\d{2}T/);
			await expect(page.getByLabel('Current password')).toBeDisabled();
			await expect(
				page.getByRole('button', { name: 'Send code to the new contact' })
			).toBeDisabled();
			await axe(page);
		});
	});

	test.describe(`code steps in Chinese with JavaScript ${js}`, () => {
		test.use({
			javaScriptEnabled,
			locale: 'zh-CN',
			extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' }
		});

		test('R6: the expiry, the last-try warning and the sign-in line read in Chinese', async ({
			page,
			request,
			context
		}) => {
			await context.setExtraHTTPHeaders({
				'accept-language': 'zh-CN,zh;q=0.9',
				...chinaNetwork()
			});
			const email = uniqueEmail('cs-zh');
			await page.goto('/register');
			await expect(page.getByText('已有账户？')).toBeVisible();
			await page.locator('#identifier').fill(email);
			await page.locator('#password').fill(PASSWORD);
			await page.locator('form[action="?/start"] button[type="submit"]').click();
			await expect(page.locator('[data-expires-at]')).toHaveText(/^有效期至 .*\d{2}:\d{2}:\d{2}/);
			await expect(page.locator('[data-code="resend_wait"]')).toHaveText(
				javaScriptEnabled ? /秒/ : /起可重新获取验证码。$/
			);
			const code = await latestCodeFor(request, email);
			for (let i = 0; i < 4; i++) {
				await page.locator('#code').fill(wrongCode(code));
				await Promise.all([
					page.waitForResponse((r) => r.request().method() === 'POST'),
					page.locator('form[action="?/confirm"] button[type="submit"]').click()
				]);
				await expect(page.locator('#code-error')).toHaveAttribute('data-code', 'code_invalid');
			}
			await expect(page.locator('[data-code="attempts_left"]')).toHaveText(
				'此验证码只剩一次机会。如果再次输错，请重新获取验证码。'
			);
		});
	});
}
