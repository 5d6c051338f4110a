import type { APIRequestContext, Page } from '@playwright/test';
import { pdfBytes } from '../support/documents';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';
import { proveNewContact } from './appeal-steps';
import { latestCodeFor } from './outbox';

/** R19: the appeal's errors, receipt, status link and timeline, and the dev outbox. */

const FIELDS = [
	'Email or phone you lost',
	'New email or phone to bind',
	'Code sent to the new contact',
	'What happened?'
];

/** The newest message of `purpose` to `to`, read through the test hook as the person reads it. */
async function messageFor(request: APIRequestContext, to: string, purpose: string) {
	const res = await request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
	const { messages } = (await res.json()) as { messages: { purpose: string; text: string }[] };
	return messages.find((msg) => msg.purpose === purpose)?.text ?? '';
}

/** Files an appeal through the form; answers the receipt's reference and status secret. */
async function fileAppeal(page: Page, request: APIRequestContext, newEmail: string) {
	await page.goto('/appeal');
	await proveNewContact(page, request, uniqueEmail('lost'), newEmail);
	await page.getByLabel('What happened?').fill('My phone was stolen and the SIM was cancelled.');
	await page.getByLabel('Identity documents (1–3 files)').setInputFiles({
		name: 'passport.pdf',
		mimeType: 'application/pdf',
		buffer: Buffer.from(pdfBytes())
	});
	await page.getByRole('button', { name: 'Submit appeal' }).click();
	const reference = (await page.locator('[data-reference]').textContent())!.trim();
	const secret = (await page.locator('[data-status-token]').textContent())!.trim();
	return { reference, secret };
}

for (const javaScriptEnabled of [true, false]) {
	const js = `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;
	test.describe(`appeal, R19, ${js}`, () => {
		test.use({ javaScriptEnabled });

		test(`R19: an empty appeal marks each missing field, tells why beside it, and focuses the first (${js})`, async ({
			page,
			axe
		}) => {
			await page.goto('/appeal');
			// R19: before anything is typed, the page says what counts, how long it is kept, what follows.
			const before = page.getByRole('region', { name: 'Before you start' });
			await expect(before).toContainText('passport, national ID card or driving licence');
			await expect(before).toContainText('30 days after the decision');
			await expect(before).toContainText(/takes effect (\d+ hours later|at once)/);
			await page.getByRole('button', { name: 'Submit appeal' }).click();
			const alert = page.locator('#appeal-error');
			await expect(alert).toHaveAttribute('data-code', 'invalid_request');
			await expect(alert).toHaveText('Some fields need your attention; each one is marked below.');
			for (const label of FIELDS) {
				const field = page.getByLabel(label, { exact: true });
				await expect(field).toHaveAttribute('aria-invalid', 'true');
				await expect(field).toHaveAccessibleDescription(/Fill in this field\./);
			}
			await expect(page.getByLabel('Email or phone you lost')).toBeFocused();
			await axe(page);

			// The code step alone: only the new contact is marked, and it takes the focus.
			await page.getByLabel('Email or phone you lost').fill(uniqueEmail('lost'));
			await page.getByRole('button', { name: 'Send code to the new contact' }).click();
			await expect(page.getByLabel('New email or phone to bind')).toHaveAttribute(
				'aria-invalid',
				'true'
			);
			await expect(page.getByLabel('Email or phone you lost')).not.toHaveAttribute('aria-invalid');
			await expect(page.getByLabel('New email or phone to bind')).toBeFocused();
		});

		test(`R19: the status page names an empty reference and secret, and focuses the first (${js})`, async ({
			page,
			axe
		}) => {
			await page.goto('/appeal/status');
			await page.getByRole('button', { name: 'Show status' }).click();
			await expect(
				page.getByRole('alert').filter({ hasText: 'need your attention' })
			).toHaveAttribute('data-code', 'invalid_request');
			for (const label of ['Reference', 'Status code']) {
				await expect(page.getByLabel(label)).toHaveAttribute('aria-invalid', 'true');
				await expect(page.getByLabel(label)).toHaveAccessibleDescription('Fill in this field.');
			}
			await expect(page.getByLabel('Reference')).toBeFocused();
			await axe(page);
		});

		test(`R19: the receipt copies the secret, the new contact gets the status link, which opens the status page with its timeline (${js})`, async ({
			page,
			context,
			browser,
			request,
			baseURL,
			axe
		}) => {
			const newEmail = uniqueEmail('found');
			const { reference, secret } = await fileAppeal(page, request, newEmail);
			expect(secret).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
			await expect(page.getByText('We also sent the reference and a link')).toBeVisible();
			const copy = page.getByRole('button', { name: 'Copy status code' });
			if (javaScriptEnabled) {
				await context.grantPermissions(['clipboard-read', 'clipboard-write']);
				await copy.click();
				await expect(page.getByRole('status')).toHaveText('Status code copied.');
				expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
			} else {
				// Without JavaScript there is nothing to click: the secret is text to select.
				await expect(copy).toHaveCount(0);
				await expect(page.locator('[data-status-token]')).toHaveCSS('user-select', 'all');
			}
			await axe(page);
			// R19: the receipt is kept as a file too (from this browser's cookie, JS on or off).
			await expect(page.getByRole('button', { name: 'Print' })).toHaveCount(
				javaScriptEnabled ? 1 : 0
			);
			const file = await page.request.get('/appeal/receipt');
			expect(file.status()).toBe(200);
			expect(file.headers()['content-disposition']).toBe(
				`attachment; filename="appeal-${reference}.txt"`
			);
			expect(await file.text()).toContain(`Status code: ${secret}`);
			await expect(page.getByRole('link', { name: 'Download (.txt)' })).toHaveAttribute(
				'href',
				'/appeal/receipt'
			);

			// The message to the new contact: a clickable link on ORIGIN, the reference filled in.
			const text = await messageFor(request, newEmail, 'appeal_received');
			const link = `${baseURL}/appeal/status?reference=${reference}`;
			expect(text).toContain(link);
			expect(text).not.toContain(secret);

			// Opened on another device: the reference is there, the secret is typed from the receipt.
			const other = await browser.newContext({ javaScriptEnabled });
			try {
				const phone = await other.newPage();
				await phone.goto(link);
				await expect(phone.getByLabel('Reference')).toHaveValue(reference);
				// Typed as people type it: lower case, spaces for hyphens.
				await phone.getByLabel('Status code').fill(secret.toLowerCase().replaceAll('-', ' '));
				await phone.getByRole('button', { name: 'Show status' }).click();
				await expect(phone.locator('[data-status]')).toHaveAttribute('data-status', 'submitted');
				const timeline = phone.getByRole('list', { name: 'Timeline' });
				await expect(timeline.getByRole('listitem')).toHaveCount(2);
				await expect(timeline.locator('[data-event="submitted"]')).toContainText(
					'Appeal submitted'
				);
				await expect(timeline.locator('[data-event="due"]')).toContainText('Support answers by');
				// Times read as times, not as ISO strings.
				await expect(timeline).not.toContainText(/\d{4}-\d{2}-\d{2}T/);
				await axe(phone);

				const forget = phone.getByRole('button', { name: 'Forget on this device' });
				await expect(forget).toHaveClass(/btn-link/);
				await forget.click();
				await expect(phone.getByRole('button', { name: 'Show status' })).toBeVisible();
			} finally {
				await other.close();
			}
		});
	});
}

test.describe('appeal errors in Chinese', () => {
	test.use({ locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' } });
	test('R19: the field messages are translated', async ({ page }) => {
		await page.goto('/appeal');
		await page.getByRole('button', { name: '提交申诉' }).click();
		await expect(page.getByLabel('您丢失的邮箱或手机号')).toHaveAccessibleDescription(
			'请填写此项。'
		);
		await expect(page.locator('#appeal-error')).toHaveText('部分内容需要修改，已在下方逐项标出。');
	});
});

test.describe('dev outbox on a phone', () => {
	test.use({ viewport: { width: 390, height: 844 } });
	test(`R7: the code leads each message, times are local, nothing scrolls sideways, axe-clean`, async ({
		page,
		request,
		axe
	}) => {
		const to = uniqueEmail('outbox');
		// An appeal code: it goes to any address (a check code only to an account's, R15a).
		const sent = await request.post('/api/v1/verifications', {
			data: { identifier: to, purpose: 'appeal' }
		});
		expect(sent.status()).toBe(202);
		const code = await latestCodeFor(request, to);
		await page.goto('/dev/outbox');
		const card = page.getByRole('listitem').filter({ hasText: to });
		await expect(card.locator('[data-code]')).toHaveText(code);
		expect(
			await card.locator('[data-code]').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
		).toBeGreaterThan(
			await card.locator('.body').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
		);
		await expect(card).not.toContainText(/\d{4}-\d{2}-\d{2}T/);
		expect(
			await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
		).toBeLessThanOrEqual(0);
		await axe(page);
	});
});
