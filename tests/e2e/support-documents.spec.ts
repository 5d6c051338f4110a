import { pdfBytes } from '../support/documents';
import { uniqueEmail } from '../support/factories';
import { AGENT_PASSWORD, clockOnRealTime, createAgentWithCli, totpNow } from './agents';
import { proveNewContact } from './appeal-steps';
import { expect, test } from './fixtures';

test('R19/R22: a 2-page PDF appeal shows in the console as two rebuilt page images, never as the PDF', async ({
	page,
	browser,
	request,
	db,
	axe
}) => {
	test.setTimeout(60_000);
	await clockOnRealTime(request);
	const oldEmail = uniqueEmail('lost');
	const newEmail = uniqueEmail('found');
	db.insertAccount({ email: oldEmail });

	await page.goto('/appeal');
	await proveNewContact(page, request, oldEmail, newEmail);
	await page
		.getByLabel('What happened?')
		.fill('My phone was stolen and the SIM was cancelled; here is my passport.');
	const pdf = pdfBytes({
		pages: 2,
		catalog: '/OpenAction << /S /JavaScript /JS (app.alert(1)) >>'
	});
	await page
		.getByLabel('Identity documents (1–3 files)')
		.setInputFiles({ name: 'passport.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) });
	await page.getByRole('button', { name: 'Submit appeal' }).click();
	const reference = (await page.locator('[data-reference]').textContent())!.trim();
	expect(reference).toMatch(/^AP-\w{4}-\w{4}$/);

	const username = `e2e-doc-${Date.now().toString(36)}`;
	const { totpSecret } = createAgentWithCli(username);
	const agentContext = await browser.newContext();
	const agent = await agentContext.newPage();
	await agent.goto('/support/login');
	await agent.getByLabel('Username').fill(username);
	await agent.getByLabel('Password').fill(AGENT_PASSWORD);
	await agent.getByLabel('Authenticator code').fill(totpNow(totpSecret));
	await agent.getByRole('button', { name: 'Sign in' }).click();
	await expect(agent).toHaveURL(/\/support$/);

	const views: { url: string; headers: Record<string, string> }[] = [];
	agent.on('response', (response) => {
		if (response.url().includes('/support/documents/'))
			views.push({ url: response.url(), headers: response.headers() });
	});
	await agent
		.locator(`tr[data-reference="${reference}"]`)
		.getByRole('link', { name: reference })
		.click();

	// One upload, sent as a PDF, shown as its two rebuilt pages with their numbers.
	const upload = agent.locator('section[data-upload="1"]');
	await expect(upload.getByRole('heading', { name: 'Document 1 (sent as PDF)' })).toBeVisible();
	const images = upload.getByRole('img');
	await expect(images).toHaveCount(2);
	await expect(upload.getByRole('img', { name: 'Document 1, page 1 of 2' })).toBeVisible();
	await expect(upload.getByRole('img', { name: 'Document 1, page 2 of 2' })).toBeVisible();
	await expect(upload.getByText('Page 1 of 2')).toBeVisible();
	await expect(upload.getByText('Page 2 of 2')).toBeVisible();
	// The browser decoded them: 200 pt pages at 150 dpi.
	for (const image of await images.all()) {
		await expect
			.poll(() => image.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)))
			.toBe(417);
	}
	// Nothing in the page embeds or links the PDF itself.
	await expect(agent.locator('embed, object, iframe')).toHaveCount(0);
	await expect(
		upload.getByRole('link', { name: /Download document 1, page [12] \(PNG, \d+ KB\)/ })
	).toHaveCount(2);
	await axe(agent);
	if (process.env.DOCS_SCREENSHOTS === '1')
		await agent.screenshot({ path: 'docs/screenshots/support-documents.png', fullPage: true });

	// R22: each page zooms and turns (a photo taken sideways), and says so to screen readers.
	const first = upload.locator('[data-zoom]').first();
	const tools = upload.getByRole('group', { name: 'Page 1 view' });
	await tools.getByRole('button', { name: 'Zoom in' }).click();
	await tools.getByRole('button', { name: 'Rotate 90°' }).click();
	await expect(first).toHaveAttribute('data-zoom', '1.5');
	await expect(first).toHaveAttribute('data-rotation', '90');
	await expect(tools.getByText('150%, turned 90°')).toBeVisible();
	await tools.getByRole('button', { name: 'Reset view' }).click();
	await expect(first).toHaveAttribute('data-zoom', '1');
	await expect(tools.getByRole('link', { name: 'Open full size' })).toHaveAttribute(
		'href',
		/\/support\/documents\/[0-9a-f-]{36}\?view=1$/
	);

	// The images come inline, as PNG, never sniffed, sandboxed and uncached (R22).
	const inline = views.filter((v) => v.url.endsWith('?view=1'));
	expect(inline).toHaveLength(2);
	for (const { headers } of inline) {
		expect(headers['content-type']).toBe('image/png');
		expect(headers['content-disposition']).toMatch(/^inline; filename="AP-[\w-]+\.png"$/);
		expect(headers['x-content-type-options']).toBe('nosniff');
		expect(headers['content-security-policy']).toContain('sandbox');
		expect(headers['cache-control']).toBe('no-store');
	}
	// The download link is the rebuilt page too, as an attachment.
	const href = await upload.getByRole('link', { name: /page 1/ }).getAttribute('href');
	const download = await agent.request.get(href!);
	expect(download.headers()['content-disposition']).toMatch(/^attachment; /);
	expect((await download.body()).subarray(0, 8)).toEqual(
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
	);
	expect((await download.body()).toString('latin1')).not.toMatch(/%PDF|\/JavaScript|app\.alert/);
	await agentContext.close();

	// Not for anyone else.
	const anonymous = await request.get(`${new URL(href!, 'http://x').pathname}?view=1`);
	expect(anonymous.status()).toBe(403);
});
