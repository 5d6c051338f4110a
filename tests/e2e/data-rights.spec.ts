import type { APIRequestContext, Download, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { formatInstant } from '../../src/lib/format/time';
import { uniqueEmail } from '../support/factories';
import { appCode } from '../support/two-step';
import { expect, ready, test } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * R28 (GDPR Art. 15, 17, 20) in the browser: the owner downloads a copy of their data, asks for
 * the deletion (14 days, every session signed out, a keep-my-account link to every contact), and
 * keeps the account by the link or by signing in again; when the 14 days pass the account is
 * erased and its email can be registered again. JavaScript on and off, English and Chinese.
 */

const PASSWORD = 'a long and quiet river';
const passwordHash = hashPassword(PASSWORD);
const ZONE = 'Asia/Shanghai';
const DAY_MS = 86_400_000;
const words = (locale: string) =>
	JSON.parse(readFileSync(`messages/${locale}.json`, 'utf8')) as Record<string, string>;
const headersFor = (locale: 'en' | 'zh-CN', ip: string) => ({
	'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9',
	'x-forwarded-for': ip
});

/** A fresh account signed in on the page's browser context (the session cookie), and its email. */
async function signedInOwner(
	page: Page,
	insertAccount: (o: { email: string; password_hash: string; locale: string }) => unknown,
	locale: 'en' | 'zh-CN' = 'en'
): Promise<string> {
	const email = uniqueEmail('data-rights');
	insertAccount({ email, password_hash: await passwordHash, locale });
	await signIn(page.request, email);
	return email;
}

async function signIn(request: APIRequestContext, email: string, status = 201): Promise<void> {
	const res = await request.post('/api/v1/sessions', {
		data: { identifier: email, password: PASSWORD }
	});
	expect(res.status()).toBe(status);
}

/** The server's clock, which the test hooks may have moved. */
async function serverNow(request: APIRequestContext): Promise<number> {
	const res = await request.post('/api/test/clock', { data: { advanceMs: 0 } });
	return new Date(((await res.json()) as { now: string }).now).getTime();
}

/** The text of the newest message of `purpose` sent to `to`, read from the test outbox. */
async function messageTo(request: APIRequestContext, to: string, purpose: string) {
	let text = '';
	await expect(async () => {
		const res = await request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
		const { messages } = (await res.json()) as { messages: { purpose: string; text: string }[] };
		text = messages.find((msg) => msg.purpose === purpose)?.text ?? '';
		expect(text).not.toBe('');
	}).toPass({ timeout: 5_000 });
	return text;
}

/** The keep-my-account link of the deletion notice sent to `to`. */
async function keepLinkTo(request: APIRequestContext, to: string): Promise<string> {
	const text = await messageTo(request, to, 'deletion_scheduled');
	const link = /https?:\/\/\S+?\/account\/deletion\/cancel\?token=[a-z2-7]+/.exec(text)?.[0];
	expect(link, 'the notice carries the keep-my-account link').toBeDefined();
	return link!;
}

async function readJson(download: Download): Promise<Record<string, unknown>> {
	expect(download.suggestedFilename()).toMatch(/\.json$/);
	return JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, unknown>;
}

/** Waits for the file that pressing the button downloads. */
async function downloadBy(page: Page, button: string): Promise<Download> {
	const [download] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: button }).click()
	]);
	return download;
}

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	test.describe(`R28 a copy of the data, JavaScript ${js}`, () => {
		test.use({ javaScriptEnabled, extraHTTPHeaders: headersFor('en', '1.0.1.71') });

		for (const locale of ['en', 'zh-CN'] as const)
			test.describe(`in ${locale}`, () => {
				test.use({
					locale,
					extraHTTPHeaders: headersFor(locale, locale === 'en' ? '1.0.1.71' : '1.0.1.75')
				});
				test('R28: /account leads to "Your data"; a wrong password is refused at the field; the right one downloads the JSON copy', async ({
					page,
					db,
					axe
				}) => {
					const t = words(locale);
					const email = await signedInOwner(page, db.insertAccount, locale);
					await page.goto('/account');
					await page.getByRole('link', { name: t.data_account_link }).click();
					await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.data_title!);
					await ready(page, javaScriptEnabled);
					await axe(page);
					const copy = page.getByRole('region', { name: t.data_export_title });

					await copy.getByLabel(t.contact_current_password!).fill('not my password at all');
					await page.getByRole('button', { name: t.data_export_submit }).click();
					await expect(page.locator('#export-password-error')).toHaveAttribute(
						'data-code',
						'invalid_credentials'
					);
					await expect(page.locator('#export-password-error')).toHaveText(
						t.error_current_password!
					);
					await expect(copy.getByLabel(t.contact_current_password!)).toHaveAttribute(
						'aria-invalid',
						'true'
					);
					await axe(page);

					await copy.getByLabel(t.contact_current_password!).fill(PASSWORD);
					const file = await readJson(await downloadBy(page, t.data_export_submit!));
					expect(file.format).toBe('account-security-check.export');
					expect((file.account as { email: string }).email).toBe(email);
					if (javaScriptEnabled) {
						await expect(page.locator('[data-result="exported"]')).toContainText(
							/account-data-\d{4}-\d{2}-\d{2}\.json/
						);
					}
					// Still signed in: the copy changes nothing.
					expect((await page.request.get('/api/v1/account')).status()).toBe(200);
				});
			});

		test('R28: with an authenticator app on, the copy also needs one of its codes', async ({
			page,
			db
		}) => {
			const t = words('en');
			await signedInOwner(page, db.insertAccount);
			// TOTP codes come from the server's clock, wherever the test hooks put it.
			const now = await serverNow(page.request);
			const clock = { now: () => new Date(Date.now() + (now - Date.now())) };
			await page.goto('/account/security/two-step');
			await page.locator('#start-password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
			const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
			await page.getByLabel('Six-digit code from the app').fill(appCode(secret, clock));
			await page.getByRole('button', { name: 'Turn on' }).click();
			await expect(page.getByTestId('recovery-codes').locator('code')).toHaveCount(10);

			await page.goto('/account/data');
			await ready(page, javaScriptEnabled);
			const code = page.getByLabel(t.data_export_code_label!);
			await expect(code).toBeVisible();
			await page.locator('#export-password').fill(PASSWORD);
			await page.getByRole('button', { name: t.data_export_submit }).click();
			await expect(page.locator('#export-code-error')).toHaveAttribute(
				'data-code',
				'second_factor_required'
			);
			await expect(page.locator('#export-code-error')).toHaveText(t.error_second_factor_required!);

			// The code of the next step: the one that turned the app on is spent.
			await page.locator('#export-password').fill(PASSWORD);
			await code.fill(appCode(secret, clock, 1));
			await page.request.post('/api/test/clock', { data: { advanceMs: 30_000 } });
			const file = await readJson(await downloadBy(page, t.data_export_submit!));
			expect((file.twoStep as { authenticatorApp: boolean }).authenticatorApp).toBe(true);
		});
	});
}

for (const locale of ['en', 'zh-CN'] as const) {
	for (const javaScriptEnabled of [true, false]) {
		const js = javaScriptEnabled ? 'on' : 'off';
		test.describe(`R28 the owner's deletion in ${locale}, JavaScript ${js}`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				// R14: the browser's zone and its cookie agree, so the server and the page say the same.
				timezoneId: ZONE,
				extraHTTPHeaders: headersFor(locale, javaScriptEnabled ? '1.0.1.72' : '1.0.1.73')
			});

			test('R28: asked with the password and the box: signed out, the date in the zone, a keep link to the contact that keeps the account', async ({
				page,
				db,
				axe,
				baseURL
			}) => {
				// Four axe passes: without JavaScript each one scans a second, script-free copy.
				test.setTimeout(90_000);
				const t = words(locale);
				await page.context().addCookies([{ name: 'tz', value: ZONE, url: baseURL! }]);
				const email = await signedInOwner(page, db.insertAccount, locale);
				await page.goto('/account/data');
				await ready(page, javaScriptEnabled);
				const deletion = page.getByRole('region', { name: t.data_delete_title });
				await expect(deletion).toContainText(t.data_delete_effect_erase!);
				// The contact the link goes to, masked.
				await expect(deletion).toContainText(email.slice(0, 1));
				await expect(deletion).not.toContainText(email);

				// Without the box ticked nothing happens.
				await page.locator('#currentPassword').fill(PASSWORD);
				await page.getByRole('button', { name: t.data_delete_submit }).click();
				await expect(page.locator('#confirm-error')).toHaveAttribute(
					'data-code',
					'confirm_required'
				);
				await expect(page.locator('#confirm-error')).toHaveText(t.data_delete_confirm_required!);
				expect((await page.request.get('/api/v1/account')).status()).toBe(200);

				await page.locator('#currentPassword').fill(PASSWORD);
				await page.getByLabel(t.data_delete_confirm_label!).check();
				const asked = await serverNow(page.request);
				await page.getByRole('button', { name: t.data_delete_submit }).click();
				const done = page.locator('[data-result="deletion-scheduled"]');
				await expect(done).toContainText(t.data_delete_done_signed_out!);
				await expect(done).toContainText(t.data_delete_keep_how!);
				const due = await done.locator('time').getAttribute('datetime');
				expect(Date.parse(due!) - asked).toBeGreaterThanOrEqual(14 * DAY_MS);
				expect(Date.parse(due!) - asked).toBeLessThan(14 * DAY_MS + 60_000);
				const when = formatInstant(due!, { locale, timeZone: ZONE });
				await expect(done.locator('[data-deletion-due]')).toHaveText(
					t.data_deletion_due!.replace('{when}', when)
				);
				await axe(page);
				// Every session ended, this one too.
				expect((await page.request.get('/api/v1/account')).status()).toBe(401);

				// The contact's message carries the link; opening it changes nothing, the button keeps it.
				const link = await keepLinkTo(page.request, email);
				await page.goto(link);
				await ready(page, javaScriptEnabled);
				await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.data_cancel_title!);
				await axe(page);
				await signIn(page.request, email);
				await page.goto('/account');
				await expect(page.locator('[data-deletion-notice]')).toBeVisible();
				await page.goto(link);
				await ready(page, javaScriptEnabled);
				await page.getByRole('button', { name: t.data_keep_submit }).click();
				await expect(page.locator('[data-result="kept"]')).toHaveText(t.data_keep_done!);
				await axe(page);
				await messageTo(page.request, email, 'deletion_cancelled');

				// The account stays: /account shows no notice, and the spent link says so.
				await page.goto('/account');
				await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
				await expect(page.locator('[data-deletion-notice]')).toHaveCount(0);
				await page.goto(link);
				await ready(page, javaScriptEnabled);
				await page.getByRole('button', { name: t.data_keep_submit }).click();
				await expect(page.locator('main [role="alert"]')).toHaveAttribute(
					'data-code',
					'link_invalid'
				);
				await expect(page.locator('main [role="alert"]')).toHaveText(
					t.error_deletion_link_invalid!
				);
				await expect(page.getByRole('button', { name: t.data_keep_submit })).toHaveCount(0);
			});

			test('R28: signed in again during the 14 days, "Keep my account" on /account keeps it', async ({
				page,
				db,
				axe
			}) => {
				test.setTimeout(60_000);
				const t = words(locale);
				const email = await signedInOwner(page, db.insertAccount, locale);
				const asked = await page.request.post('/api/v1/account/deletion', {
					data: { currentPassword: PASSWORD }
				});
				expect(asked.status()).toBe(202);
				const { effectiveAt } = (await asked.json()) as { effectiveAt: string };
				await signIn(page.request, email);

				// /account/data says it too, and offers no second deletion.
				await page.goto('/account/data');
				await expect(page.locator('[data-deletion-notice] time')).toHaveAttribute(
					'datetime',
					effectiveAt
				);
				await expect(page.getByRole('button', { name: t.data_delete_submit })).toHaveCount(0);

				await page.goto('/account');
				await ready(page, javaScriptEnabled);
				const notice = page.getByRole('region', { name: t.data_deletion_pending_title });
				await expect(notice.locator('time')).toHaveAttribute('datetime', effectiveAt);
				await axe(page);
				await notice.getByRole('button', { name: t.data_keep_submit }).click();
				await expect(page.locator('[data-result="deletion-kept"]')).toHaveText(t.data_keep_done!);
				await expect(page.locator('[data-deletion-notice]')).toHaveCount(0);
				await axe(page);
				await page.goto('/account');
				await expect(page.locator('[data-deletion-notice]')).toHaveCount(0);
				await messageTo(page.request, email, 'deletion_cancelled');
			});
		});
	}
}

test.describe('R28 the erasure', () => {
	test.use({ extraHTTPHeaders: headersFor('en', '1.0.1.74') });
	test.afterEach(async ({ request }) => {
		await request.post('/api/test/clock', { data: { now: new Date().toISOString() } });
	});

	test('R28: 14 days and a minute later the erasure job erases it; the password no longer signs in and the email registers again', async ({
		page,
		db
	}) => {
		const email = await signedInOwner(page, db.insertAccount);
		const asked = await page.request.post('/api/v1/account/deletion', {
			data: { currentPassword: PASSWORD }
		});
		expect(asked.status()).toBe(202);

		// One minute before, the erasure leaves it alone.
		await page.request.post('/api/test/clock', { data: { advanceMs: 14 * DAY_MS - 60_000 } });
		await page.request.post('/api/test/erasure');
		await signIn(page.request, email);

		await page.request.post('/api/test/clock', { data: { advanceMs: 2 * 60_000 } });
		// The hook runs the erasure now (the server's own minute job may have been first).
		expect((await page.request.post('/api/test/erasure')).status()).toBe(200);
		await signIn(page.request, email, 401);
		await messageTo(page.request, email, 'account_erased');

		await page.context().clearCookies();
		await page.goto('/register');
		await page.getByLabel('Email or phone number').fill(email);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Send code' }).click();
		await expect(page.getByRole('heading', { name: 'Enter the code' })).toBeVisible();
		await page.getByLabel('6-digit code').fill(await latestCodeFor(page.request, email));
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page).toHaveURL(/\/account/);
		await expect(page.locator('[data-deletion-notice]')).toHaveCount(0);
	});
});
