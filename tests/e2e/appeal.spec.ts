import type { Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { jpegBytes, pdfBytes, pngBytes } from '../support/documents';
import { uniqueEmail } from '../support/factories';
import { AGENT_PASSWORD, clockOnRealTime, createAgentWithCli, totpNow } from './agents';
import { proveNewContact } from './appeal-steps';
import { expect, test } from './fixtures';

const PASSWORD = 'a long and quiet river';
async function shot(page: Page, name: string): Promise<void> {
	if (process.env.DOCS_SCREENSHOTS === '1')
		await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
}

for (const javaScriptEnabled of [true, false]) {
	test.describe(`appeal journey, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({ javaScriptEnabled });

		test(`R19–R22: appeal with a PDF and a PNG, agent asks for more, person adds a document, agent approves, person signs in with the new contact (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async ({
			page,
			browser,
			request,
			db,
			axe
		}) => {
			test.setTimeout(90_000);
			await clockOnRealTime(request);
			const oldEmail = uniqueEmail('lost');
			const newEmail = uniqueEmail('found');
			db.insertAccount({ email: oldEmail, password_hash: await hashPassword(PASSWORD) });

			// The person files the appeal (R19).
			await page.goto('/appeal');
			await axe(page);
			await proveNewContact(page, request, oldEmail, newEmail);
			await page
				.getByLabel('What happened?')
				.fill('My phone was stolen in Shenzhen and the SIM was cancelled.');
			await page.getByLabel('Identity documents (1–3 files)').setInputFiles([
				{ name: 'passport.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfBytes()) },
				{
					name: 'selfie.png',
					mimeType: 'image/png',
					buffer: Buffer.from(pngBytes({ metadata: true }))
				}
			]);
			if (javaScriptEnabled) await shot(page, 'appeal-form');
			await page.getByRole('button', { name: 'Submit appeal' }).click();
			const reference = (await page.locator('[data-reference]').textContent())!.trim();
			expect(reference).toMatch(/^AP-\w{4}-\w{4}$/);
			await expect(page.locator('[data-status-token]')).toHaveText(
				/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/
			);
			await axe(page);

			await page.getByRole('link', { name: 'Open the status page' }).click();
			await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'submitted');
			await axe(page);
			if (javaScriptEnabled) await shot(page, 'appeal-status');

			// An agent signs in with password + TOTP and finds it in the queue with its countdown (R20, R22).
			const username = `e2e-${Date.now().toString(36)}`;
			const { totpSecret } = createAgentWithCli(username);
			const agentContext = await browser.newContext();
			const agent = await agentContext.newPage();
			await agent.goto('/support');
			await expect(agent).toHaveURL(/\/support\/login$/);
			await axe(agent);
			await agent.getByLabel('Username').fill(username);
			await agent.getByLabel('Password').fill(AGENT_PASSWORD);
			await agent.getByLabel('Authenticator code').fill(totpNow(totpSecret));
			await agent.getByRole('button', { name: 'Sign in' }).click();
			await expect(agent).toHaveURL(/\/support$/);
			const row = agent.locator(`tr[data-reference="${reference}"]`);
			await expect(row).toHaveAttribute('data-urgency', 'on_time');
			await expect(row.locator('[data-due-countdown]')).toHaveText(/due in 4[78]h \d+m/);
			await axe(agent);
			if (javaScriptEnabled) await shot(agent, 'support-queue');

			await row.getByRole('link', { name: reference }).click();
			await agent.getByRole('button', { name: 'Claim' }).click();
			await expect(agent.getByText('You are working on this appeal.')).toBeVisible();
			await expect(agent.getByRole('link', { name: /Download document/ })).toHaveCount(2);
			await agent
				.getByLabel('Reason (the person will read it)')
				.fill('Please add a photo of the back of your ID card.');
			await agent.getByRole('button', { name: 'Ask for more information' }).click();
			await expect(
				agent.getByRole('status').filter({ hasText: 'asked for more information' })
			).toBeVisible();
			await axe(agent);
			if (javaScriptEnabled) await shot(agent, 'support-appeal');

			// The person answers with one more document.
			await page.goto(new URL(page.url()).pathname);
			await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'needs_info');
			await expect(page.getByText('Please add a photo of the back of your ID card.')).toBeVisible();
			await page.getByLabel('Identity documents (1–3 files)').setInputFiles({
				name: 'back.jpg',
				mimeType: 'image/jpeg',
				buffer: Buffer.from(jpegBytes())
			});
			await page.getByRole('button', { name: 'Send', exact: true }).click();
			await expect(
				page.getByRole('status').filter({ hasText: 'support will review' })
			).toBeVisible();
			await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'in_review');

			// The agent approves: the account is rebound (R21).
			// A fresh GET: without JavaScript, reload() would re-post the last form.
			await agent.goto(new URL(agent.url()).pathname);
			await expect(agent.getByRole('link', { name: /Download document/ })).toHaveCount(3);
			await agent.getByLabel('I confirm the approval').check();
			await agent.getByRole('button', { name: 'Approve and rebind' }).click();
			await expect(agent.getByRole('status').filter({ hasText: 'Approved' })).toBeVisible();
			await agentContext.close();

			// §8a: approved, the rebind waits out the 72-hour hold; the status page says when.
			await page.goto('/appeal/status');
			await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'approved');
			await expect(page.locator('[data-approved-held]')).toBeVisible();
			await expect(page.locator('[data-effective-at]')).toBeVisible();
			await expect(page.getByRole('list', { name: 'Timeline' }).getByRole('listitem')).toHaveText([
				/Appeal submitted/,
				/Support started the review/,
				/Support asked for more information/,
				/You sent more documents/,
				/Approved/,
				/The new contact will be bound to the account/,
				/Identity documents will be deleted/
			]);
			await axe(page);
			// The server's clock moves past the hold: the next read of the appeal applies the rebind.
			expect(
				(
					await request.post('/api/test/clock', {
						data: { now: new Date(Date.now() + 73 * 3_600_000).toISOString() }
					})
				).status()
			).toBe(200);

			// R19: the status page tells the whole story in order, and leads to sign-in.
			await page.goto('/appeal/status');
			await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'approved');
			await expect(page.locator('[data-approved-next]')).toBeVisible();
			await expect(page.getByRole('list', { name: 'Timeline' }).getByRole('listitem')).toHaveText([
				/Appeal submitted/,
				/Support started the review/,
				/Support asked for more information/,
				/You sent more documents/,
				/Approved/,
				/The new contact was bound to the account/,
				/Identity documents will be deleted/
			]);
			await expect(
				page.getByRole('link', { name: 'Forgot the password? Reset it' })
			).toHaveAttribute('href', '/forgot-password');
			await axe(page);
			const approved = await request.get(`/api/test/outbox?to=${encodeURIComponent(newEmail)}`);
			const { messages } = (await approved.json()) as {
				messages: { purpose: string; text: string }[];
			};
			expect(messages.find((msg) => msg.purpose === 'appeal_approved_new')?.text).toContain(
				`${new URL(page.url()).origin}/login`
			);

			// The person signs in with the new contact.
			await page.getByRole('link', { name: 'Sign in with your new contact' }).click();
			await expect(page).toHaveURL(/\/login$/);
			await page.getByLabel('Email or phone number').fill(newEmail);
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
		});

		test.afterEach(async ({ request }) => {
			// The other specs' TOTP codes come from real time: the clock goes back to it.
			await request.post('/api/test/clock', { data: { now: new Date().toISOString() } });
		});
	});
}

test('R22: a document URL is closed to anonymous clients and buyers', async ({ request }) => {
	const res = await request.get('/support/documents/00000000-0000-4000-8000-000000000000');
	expect(res.status()).toBe(403);
});
