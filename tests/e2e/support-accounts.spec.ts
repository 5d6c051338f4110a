import { randomUUID } from 'node:crypto';
import { uniqueEmail } from '../support/factories';
import { AGENT_PASSWORD, clockOnRealTime, createAgentWithCli, totpNow } from './agents';
import { expect, test } from './fixtures';

test('R9/R10/R22: an agent looks up an under-review account, sees the evidence and clears the review', async ({
	page,
	request,
	db,
	axe
}) => {
	test.setTimeout(60_000);
	await clockOnRealTime(request);
	const now = Date.now();
	const device = randomUUID();
	db.insert('devices', { id: device, created_at: now - 86_400_000, last_seen_at: now });
	const sibling = db.insertAccount({
		email: uniqueEmail('first'),
		reg_device_id: device,
		created_at: now - 86_400_000
	});
	const account = db.insertAccount({
		email: uniqueEmail('review'),
		status: 'under_review',
		country: 'CN',
		reg_ip_country: 'US',
		reg_device_id: device,
		multiple_accounts_on_device: 1,
		created_at: now - 3_600_000
	});

	// Anonymous: the account view sends to the support sign-in.
	await page.goto(`/support/accounts/${account.id}`);
	await expect(page).toHaveURL(/\/support\/login$/);

	const username = `e2e-acc-${Date.now().toString(36)}`;
	const { totpSecret } = createAgentWithCli(username);
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password').fill(AGENT_PASSWORD);
	await page.getByLabel('Authenticator code').fill(totpNow(totpSecret));
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/support$/);

	await page
		.getByLabel('Email or phone number (phone with +country code)')
		.fill(uniqueEmail('nobody'));
	await page.getByRole('button', { name: 'Find account' }).click();
	await expect(page.locator('#lookup-identifier-error')).toHaveAttribute(
		'data-code',
		'account_not_found'
	);
	await expect(page).toHaveURL(/\/support$/);

	// R4: the lookup posts the identifier; the URL carries only the account id.
	await page
		.getByLabel('Email or phone number (phone with +country code)')
		.fill(account.email!.toUpperCase());
	await page.getByRole('button', { name: 'Find account' }).click();
	await expect(page).toHaveURL(new RegExp(`/support/accounts/${account.id}$`));
	expect(page.url()).not.toContain(account.email!.split('@')[0]!);

	await expect(page.locator('[data-field="email"]')).toHaveText(account.email!);
	await expect(page.locator('[data-account-status]')).toHaveAttribute(
		'data-account-status',
		'under_review'
	);
	await expect(page.locator('[data-flag="ip_country_mismatch"]')).toContainText(
		'registration network in United States, chosen country China'
	);
	await expect(page.locator('[data-flag="ip_country_mismatch"]')).toHaveAttribute(
		'data-flagged',
		'true'
	);
	await expect(page.locator('[data-flag="multiple_accounts_on_device"]')).toHaveAttribute(
		'data-flagged',
		'true'
	);
	await expect(page.locator(`[data-device-account="${sibling.id}"]`)).toContainText(sibling.email!);
	await axe(page);
	if (process.env.DOCS_SCREENSHOTS === '1')
		await page.screenshot({ path: 'docs/screenshots/support-account.png', fullPage: true });

	// A reason is required.
	await page.getByRole('button', { name: 'Clear the review (activate)' }).click();
	await expect(page.locator('#reason-error')).toHaveAttribute('data-code', 'invalid_reason');
	await page
		.getByLabel('Reason (kept in the audit log)')
		.fill('Buyer travels; confirmed by the order history.');
	await page.getByRole('button', { name: 'Clear the review (activate)' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Review cleared' })).toBeVisible();
	await expect(page.locator('[data-account-status]')).toHaveAttribute(
		'data-account-status',
		'active'
	);
	await expect(page.locator('tr[data-action="support.review_cleared"]')).toBeVisible();
	await axe(page);
});
