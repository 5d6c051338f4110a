import { expect, test } from '@playwright/test';

/**
 * Issue 24, `npm run dev:mock` (DEV_MOCK=1, see ./playwright.config.ts): the check page's forms
 * reach the mocks (tests/mocks/browser.ts) and never the development database.
 */

test('dev:mock: a submit before hydration reaches neither mocks nor database; after, the mocks answer', async ({
	page
}) => {
	// Before hydration: the page's scripts have not run (here: never load).
	await page.route('**/*', (route) =>
		route.request().resourceType() === 'script' ? route.abort() : route.continue()
	);
	await page.goto('/');
	await page.getByLabel('Email or phone number').fill('quotaUsedUp@example.com');
	const answer = page.waitForResponse((r) => r.request().method() === 'POST');
	await page.getByLabel('Email or phone number').press('Enter');
	expect((await answer).status()).toBe(204);
	expect(new URL(page.url()).search).toBe('');
	await expect(page.getByLabel('Email or phone number')).toHaveValue('quotaUsedUp@example.com');
	await expect(page.locator('.result')).not.toContainText('e***.com');

	// Hydrated: the check and the freeze go to the mocks (the mock's masked b***r@e***.com).
	await page.unrouteAll();
	await page.goto('/');
	await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
	await page.getByLabel('Email or phone number').fill('quotaUsedUp@example.com');
	await page.getByLabel('Email or phone number').press('Enter');
	await expect(page.locator('.result')).toContainText('b***r@e***.com');
	await page.getByRole('checkbox').check();
	await page.getByRole('button', { name: /freeze/i }).click();
	await expect(page.locator('[data-result="frozen"]')).toBeVisible();
});
