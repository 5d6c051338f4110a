import { readFileSync } from 'node:fs';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, ready, test } from './fixtures';

const PASSWORD = 'a long and quiet river';
const NEW_PASSWORD = 'another calm and long sentence';
const words = (locale: string) =>
	JSON.parse(readFileSync(`messages/${locale}.json`, 'utf8')) as Record<string, string>;

for (const locale of ['en', 'zh-CN'] as const) {
	for (const javaScriptEnabled of [true, false]) {
		test.describe(`§7b the owner's freeze in ${locale}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('freeze from the security page; sign-in says frozen; a reset by link lifts it', async ({
				page,
				db,
				axe
			}) => {
				const t = words(locale);
				const email = uniqueEmail('freeze-e2e');
				db.insertAccount({ email, password_hash: await hashPassword(PASSWORD), locale });
				expect(
					(
						await page.request.post('/api/v1/sessions', {
							data: { identifier: email, password: PASSWORD }
						})
					).status()
				).toBe(201);

				// The sessions page leads to the freeze page, which says what freezing does.
				await page.goto('/account/security/sessions');
				await page.getByRole('link', { name: t.freeze_title }).click();
				await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.freeze_title!);
				await expect(page.getByText(t.freeze_lift_how!)).toBeVisible();
				await ready(page, javaScriptEnabled);
				await axe(page);
				await page.getByLabel(t.contact_current_password!).fill(PASSWORD);
				await page.getByLabel(t.freeze_confirm_label!).check();
				await page.getByRole('button', { name: t.freeze_submit }).click();
				await expect(page.locator('[data-result="frozen"]')).toHaveText(t.freeze_done!);
				await axe(page);
				expect((await page.request.get('/api/v1/account')).status()).toBe(401);

				// Sign-in now answers that the account is frozen.
				await page.goto('/login');
				await page.locator('#identifier').fill(email);
				await page.locator('#password').fill(PASSWORD);
				await page.getByRole('button', { name: t.login_submit, exact: true }).click();
				await expect(page.locator('#login-error')).toHaveAttribute('data-code', 'account_frozen');

				// A reset by link: ask for a code, open the link from the message, set a new password.
				await page.goto('/forgot-password');
				await page.locator('#identifier').fill(email);
				await page.getByRole('button', { name: t.forgot_send }).click();
				await expect(page.getByText(t.forgot_sent!)).toBeVisible();
				let link = '';
				await expect(async () => {
					const res = await page.request.get(`/api/test/outbox?to=${encodeURIComponent(email)}`);
					const { messages } = (await res.json()) as {
						messages: { purpose: string; text: string }[];
					};
					const reset = messages.find((m) => m.purpose === 'password_reset');
					link =
						/(https?:\/\/\S+?\/reset-password\?token=[0-9a-f.-]+)/.exec(reset?.text ?? '')?.[1] ??
						'';
					expect(link).not.toBe('');
				}).toPass({ timeout: 5_000 });
				await page.goto(link);
				await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.reset_title!);
				await axe(page);
				await page.getByLabel(t.forgot_new_password!).fill(NEW_PASSWORD);
				await page.getByRole('button', { name: t.reset_submit }).click();
				await expect(page.locator('[data-result="reset"]')).toHaveText(t.forgot_done!);
				await axe(page);

				// The freeze is lifted: the new password signs in.
				expect(
					(
						await page.request.post('/api/v1/sessions', {
							data: { identifier: email, password: NEW_PASSWORD }
						})
					).status()
				).toBe(201);
			});
		});
	}
}

for (const javaScriptEnabled of [true, false]) {
	test.describe(`§7b the check page's freeze, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({
			javaScriptEnabled,
			extraHTTPHeaders: { 'x-forwarded-for': javaScriptEnabled ? '1.0.1.61' : '1.0.1.62' }
		});

		test('"Freeze this account" after a check code proves the contact', async ({
			page,
			db,
			axe
		}) => {
			const t = words('en');
			const email = uniqueEmail('freeze-check');
			db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
			await page.goto('/');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByRole('button', { name: 'Check' }).click();
			const result = page.getByRole('region', { name: 'Check result' });
			await expect(result).toContainText('Registered · active');
			// Not offered before the proof.
			await expect(page.getByRole('button', { name: t.freeze_submit })).toHaveCount(0);
			await page.getByRole('button', { name: 'Send me a code' }).click();
			await expect(page.getByText('a code is on its way')).toBeVisible();
			const res = await page.request.get(`/api/test/outbox?to=${encodeURIComponent(email)}`);
			const { messages } = (await res.json()) as { messages: { code?: string }[] };
			await page.getByLabel('Code from the message').fill(messages[0]!.code!);
			await page.getByRole('button', { name: 'Show details' }).click();
			await expect(result).toContainText('Verified: you proved control');
			await page.getByLabel(t.freeze_confirm_label!).check();
			await page.getByRole('button', { name: t.freeze_submit }).click();
			await expect(page.locator('[data-freeze] [data-result="frozen"]')).toHaveText(
				t.freeze_panel_done!
			);
			await axe(page);
			const notices = await page.request.get(`/api/test/outbox?to=${encodeURIComponent(email)}`);
			const sent = (await notices.json()) as { messages: { purpose: string }[] };
			expect(sent.messages.map((m) => m.purpose)).toContain('account_frozen');
		});
	});
}
