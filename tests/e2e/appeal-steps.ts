import type { APIRequestContext, Page } from '@playwright/test';
import { expect } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * R19: the appeal form's first step, on /appeal: the lost contact, the new one, and the code the
 * new one got, typed in as the person reads it.
 */
export async function proveNewContact(
	page: Page,
	request: APIRequestContext,
	lost: string,
	newContact: string
): Promise<void> {
	await page.getByLabel('Email or phone you lost').fill(lost);
	await page.getByLabel('New email or phone to bind').fill(newContact);
	await page.getByRole('button', { name: 'Send code to the new contact' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Code sent' })).toBeVisible();
	await page
		.getByLabel('Code sent to the new contact')
		.fill(await latestCodeFor(request, newContact));
}
