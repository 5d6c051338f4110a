import type { APIRequestContext, Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { pdfBytes } from '../support/documents';
import { uniqueEmail } from '../support/factories';
import { expect, ready, test } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * Rules §8a (R23, R24): an appeal filed for someone's account is announced at once to the
 * contacts bound to it; the owner reads the notice, opens its link (which changes nothing),
 * stops the appeal with the button, and the banner on /account goes away. JavaScript on and off,
 * in English and in Chinese.
 */

const PASSWORD = 'a long and quiet river';

const words = {
	en: { notice: 'Someone filed an appeal', button: 'Stop the recovery', done: 'Stopped.' },
	'zh-CN': { notice: '有人提交了申诉', button: '阻止找回', done: '已阻止' }
} as const;

/** Files an appeal for `identifier` as a stranger would: a code to a fresh mailbox, a document. */
async function fileAppeal(request: APIRequestContext, baseURL: string, identifier: string) {
	const newEmail = uniqueEmail('thief');
	const sent = await request.post('/api/v1/verifications', {
		data: { identifier: newEmail, purpose: 'appeal' },
		headers: { origin: baseURL }
	});
	expect(sent.status()).toBe(202);
	const code = await latestCodeFor(request, newEmail);
	const filed = await request.post('/api/v1/appeals', {
		headers: { origin: baseURL },
		multipart: {
			identifier,
			newIdentifier: newEmail,
			newIdentifierCode: code,
			description: 'I lost my phone with the SIM card in Shanghai last week.',
			documents: {
				name: 'passport.pdf',
				mimeType: 'application/pdf',
				buffer: Buffer.from(pdfBytes())
			}
		}
	});
	expect(filed.status()).toBe(201);
	return ((await filed.json()) as { reference: string }).reference;
}

/** The notice the owner received, read from the test outbox as they read their mail. */
async function noticeTo(request: APIRequestContext, to: string): Promise<string> {
	let text = '';
	await expect(async () => {
		const res = await request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
		const { messages } = (await res.json()) as { messages: { purpose: string; text: string }[] };
		text = messages.find((msg) => msg.purpose === 'recovery_filed')?.text ?? '';
		expect(text).toContain('/recovery/cancel?token=');
	}).toPass({ timeout: 5_000 });
	return text;
}

async function signIn(page: Page, identifier: string, javaScriptEnabled: boolean) {
	await page.goto('/login');
	await ready(page, javaScriptEnabled);
	await page.locator('main input[name="identifier"]').fill(identifier);
	await page.locator('input[name="password"]').fill(PASSWORD);
	await page.locator('main form button[type="submit"]').first().click();
	await expect(page).toHaveURL(/\/account$/);
}

for (const javaScriptEnabled of [true, false]) {
	for (const language of ['en', 'zh-CN'] as const) {
		const js = javaScriptEnabled ? 'on' : 'off';
		test.describe(`recovery the owner controls, JavaScript ${js}, ${language}`, () => {
			test.use({
				javaScriptEnabled,
				locale: language,
				extraHTTPHeaders: {
					'accept-language': language === 'en' ? 'en' : 'zh-CN,zh;q=0.9',
					'x-forwarded-for': '1.0.1.1'
				}
			});

			test(`§8a: the owner is told of an appeal, opens the link, stops it with the button, and the banner goes away (JavaScript ${js}, ${language})`, async ({
				page,
				request,
				db,
				axe,
				baseURL
			}) => {
				const email = uniqueEmail('owner');
				db.insertAccount({ email, locale: language, password_hash: await hashPassword(PASSWORD) });
				const reference = await fileAppeal(request, baseURL!, email);

				await signIn(page, email, javaScriptEnabled);
				const banner = page.locator('[data-recovery-banner]');
				await expect(banner).toBeVisible();
				await expect(banner).toContainText(reference);
				await axe(page);

				// The notice, in the owner's language, with the link on the configured ORIGIN.
				const notice = await noticeTo(request, email);
				expect(notice).toContain(words[language].notice);
				const link = new URL(
					/(https?:\/\/\S+\/recovery\/cancel\?token=[a-z2-7]+)/.exec(notice)![1]!
				);
				expect(link.origin).toBe(baseURL);

				// Opening it changes nothing (mail scanners open links): the banner is still there.
				await page.goto(link.pathname + link.search);
				await ready(page, javaScriptEnabled);
				await axe(page);
				const again = await page.context().newPage();
				await again.goto('/account');
				await expect(again.locator('[data-recovery-banner]')).toBeVisible();
				await again.close();

				await page.getByRole('button', { name: words[language].button }).click();
				await expect(page.locator('[data-recovery-cancelled]')).toContainText(words[language].done);
				await axe(page);

				await page.goto('/account');
				await expect(page.locator('h1')).toBeVisible();
				await expect(page.locator('[data-recovery-banner]')).toHaveCount(0);
			});
		});
	}
}

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	test.describe(`recovery stopped from the checkup page, JavaScript ${js}`, () => {
		test.use({ javaScriptEnabled, extraHTTPHeaders: { 'x-forwarded-for': '1.0.1.1' } });

		test(`§8a: the signed-in owner stops a recovery from the security checkup with the current password; a wrong one is refused (JavaScript ${js})`, async ({
			page,
			request,
			db,
			axe,
			baseURL
		}) => {
			const email = uniqueEmail('owner');
			db.insertAccount({ email, password_hash: await hashPassword(PASSWORD) });
			await fileAppeal(request, baseURL!, email);
			await signIn(page, email, javaScriptEnabled);

			await page.goto('/account/security');
			const banner = page.locator('[data-recovery-banner]');
			await expect(banner).toBeVisible();
			await axe(page);
			await banner.getByLabel('Your current password').fill('not the password at all');
			await banner.getByRole('button', { name: 'Stop this recovery' }).click();
			await expect(page.locator('#currentPassword-error')).toBeVisible();
			await expect(page.locator('[data-recovery-banner]')).toBeVisible();

			await page
				.locator('[data-recovery-banner]')
				.getByLabel('Your current password')
				.fill(PASSWORD);
			await page
				.locator('[data-recovery-banner]')
				.getByRole('button', { name: 'Stop this recovery' })
				.click();
			await expect(page.locator('[data-recovery-cancelled]')).toBeVisible();
			await page.goto('/account');
			await expect(page.locator('h1')).toBeVisible();
			await expect(page.locator('[data-recovery-banner]')).toHaveCount(0);
		});
	});
}
