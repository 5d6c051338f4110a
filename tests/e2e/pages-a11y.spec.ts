import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { hashToken } from '../../src/lib/server/core/tokens';
import { uniqueEmail } from '../support/factories';
import { AGENT_PASSWORD, createAgentWithCli, totpNow } from './agents';
import { expect, ready, test } from './fixtures';

/**
 * The page-wide sweep: every page is axe-clean in the light AND the dark colour
 * scheme, the dark scheme really is dark, and at 390 px nothing scrolls sideways. One visit per
 * page: both schemes and the phone width are checked on the same load.
 */
async function sweep(page: Page): Promise<void> {
	for (const colorScheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme });
		const { violations } = await new AxeBuilder({ page }).analyze();
		expect
			.soft(
				violations.map(
					(v) =>
						`${v.id}: ${v.help} at ${v.nodes
							.slice(0, 3)
							.map((n) => n.target.join(' '))
							.join(', ')}`
				),
				`axe in the ${colorScheme} scheme on ${page.url()}`
			)
			.toEqual([]);
	}
	// The page declares dark support (color-scheme), so its own background must follow.
	const background = await page.evaluate(
		() => getComputedStyle(document.documentElement).backgroundColor
	);
	const [r, g, b] = background.match(/\d+/g)!.map(Number);
	expect.soft(r! + g! + b!, `dark background on ${page.url()} (${background})`).toBeLessThan(150);
	await page.setViewportSize({ width: 390, height: 844 });
	const width = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth,
		viewport: window.innerWidth,
		// The innermost elements past the right edge, to name what overflows.
		past: [...document.body.querySelectorAll('*')]
			.filter(
				(el) =>
					el.getBoundingClientRect().right > window.innerWidth + 0.5 &&
					![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5)
			)
			.slice(0, 3)
			.map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`)
	}));
	expect
		.soft(
			width.scroll,
			`no horizontal overflow at 390 px on ${page.url()}: ${width.past.join(', ')}`
		)
		.toBeLessThanOrEqual(width.viewport);
}

/** An appeal as the submission leaves it (R19), straight into the server's database. */
function insertAppeal(
	insert: (table: string, row: Record<string, unknown>) => void,
	statusToken: string,
	accountId: string | null
): { id: string; reference: string } {
	const id = randomUUID();
	const reference = `AP-${id.slice(0, 4)}-${id.slice(4, 8)}`.toUpperCase();
	const now = Date.now();
	insert('appeals', {
		id,
		reference,
		status_token_hash: hashToken(statusToken),
		account_id: accountId,
		old_identifier: uniqueEmail('sweep-lost'),
		new_identifier: uniqueEmail('sweep-found'),
		description: 'My phone was stolen and the SIM was cancelled.',
		status: 'submitted',
		locale: 'en',
		created_at: now,
		due_at: now + 48 * 3_600_000,
		updated_at: now
	});
	return { id, reference };
}

const PASSWORD = 'a long and quiet river';
const passwordHash = hashPassword(PASSWORD);

const publicPages = [
	'/',
	'/login',
	'/register',
	'/forgot-password',
	'/appeal',
	'/appeal/status',
	'/account/secure?token=not-a-real-token',
	'/account/deletion/cancel?token=not-a-real-token',
	'/dev/outbox',
	'/support/login'
];

for (const [locale, acceptLanguage] of [
	['en', 'en'],
	['zh-CN', 'zh-CN,zh;q=0.9']
] as const) {
	test.describe(`pages without a session (${locale})`, () => {
		test.use({ locale, extraHTTPHeaders: { 'accept-language': acceptLanguage } });
		for (const path of publicPages) {
			test(`${path}: axe-clean in light and dark, no sideways scroll at 390 px (${locale})`, async ({
				page
			}) => {
				await page.goto(path);
				await expect(page.locator('html')).toHaveAttribute('lang', locale);
				await sweep(page);
			});
		}
	});
}

test('/ with a check report: axe-clean in light and dark, no sideways scroll at 390 px', async ({
	page
}) => {
	await page.goto('/');
	await page.getByLabel('Email or phone number').fill(uniqueEmail('sweep'));
	await page.getByRole('button', { name: 'Check' }).click();
	await expect(page.getByRole('region', { name: 'Check result' })).toBeVisible();
	await sweep(page);
});

test('/appeal/status with an open appeal: axe-clean in light and dark, no sideways scroll at 390 px', async ({
	page,
	db
}) => {
	const statusToken = randomUUID();
	const { reference } = insertAppeal(db.insert, statusToken, null);
	await page.goto('/appeal/status');
	await page.locator('#reference').fill(reference);
	await page.locator('#statusToken').fill(statusToken);
	await page.locator('#statusToken').press('Enter');
	await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'submitted');
	await sweep(page);
});

test.describe('pages of a signed-in owner', () => {
	const accountPages = [
		'/account',
		'/account/contact',
		'/account/security',
		'/account/security/password',
		'/account/security/sessions',
		'/account/security/two-step',
		'/account/data'
	];
	for (const path of accountPages) {
		test(`${path}: axe-clean in light and dark, no sideways scroll at 390 px`, async ({
			page,
			db
		}) => {
			const email = uniqueEmail('sweep-owner');
			db.insertAccount({ email, password_hash: await passwordHash });
			await page.goto('/login');
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
			await page.goto(path);
			await sweep(page);
		});
	}
});

for (const javaScriptEnabled of [true, false]) {
	test.describe(`the header, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
		test.use({ javaScriptEnabled });

		test('a signed-in owner is offered their account and sign-out, not "Sign in" or "Register"', async ({
			page,
			db
		}) => {
			const email = uniqueEmail('header');
			db.insertAccount({ email, password_hash: await passwordHash });
			await page.goto('/login');
			await ready(page, javaScriptEnabled);
			await page.getByLabel('Email or phone number').fill(email);
			await page.getByLabel('Password').fill(PASSWORD);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/account$/);
			await page.goto('/');
			await ready(page, javaScriptEnabled);
			const header = page.getByRole('banner');
			await expect(header.getByRole('link', { name: 'Your account' })).toBeVisible();
			await expect(header.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
			await expect(header.getByRole('link', { name: 'Register' })).toHaveCount(0);
			await header.getByRole('button', { name: 'Sign out' }).click();
			await expect(page).toHaveURL(/\/login$/);
			await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
		});

		test('the support console has its own header and the wide layout, no buyer "Sign in / Register"', async ({
			page
		}) => {
			await page.goto('/support/login');
			const header = page.getByRole('banner');
			await expect(header).toContainText('Support console');
			await expect(header.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
			await expect(header.getByRole('link', { name: 'Register' })).toHaveCount(0);
			await expect(page.locator('main')).toHaveClass(/\bwide\b/);
			await page.goto('/');
			await expect(page.locator('main')).not.toHaveClass(/\bwide\b/);
		});
	});
}

test.describe('console pages of a signed-in admin', () => {
	const storageState = `test-results/pages-a11y-agent-${randomUUID()}.json`;

	test.beforeAll(async ({ browser, baseURL }) => {
		const context = await browser.newContext({ baseURL });
		try {
			const page = await context.newPage();
			// TOTP codes come from real time: put the server's test clock back on it.
			await page.request.post('/api/test/clock', { data: { now: new Date().toISOString() } });
			const username = `e2e-sweep-${Date.now().toString(36)}`;
			const { totpSecret } = createAgentWithCli(username, undefined, 'admin');
			await page.goto('/support/login');
			await page.getByLabel('Username').fill(username);
			await page.getByLabel('Password').fill(AGENT_PASSWORD);
			await page.getByLabel('Authenticator code').fill(totpNow(totpSecret));
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(/\/support$/);
			await context.storageState({ path: storageState });
		} finally {
			await context.close();
		}
	});
	test.afterAll(() => rmSync(storageState, { force: true }));

	async function asAgent(browser: Browser, baseURL: string | undefined, path: string) {
		const context = await browser.newContext({ baseURL, storageState });
		const page = await context.newPage();
		await page.goto(path);
		await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
		return { page, context };
	}

	test('console pages: the queue, the lookup, an account, an appeal and the audit log are axe-clean in light and dark, no sideways scroll at 390 px', async ({
		browser,
		baseURL,
		db
	}) => {
		test.setTimeout(90_000);
		const now = Date.now();
		const accountId = db.insertAccount({
			email: uniqueEmail('sweep-review'),
			status: 'under_review',
			country: 'CN',
			reg_ip_country: 'US',
			created_at: now - 3_600_000
		}).id;
		const appealId = insertAppeal(db.insert, randomUUID(), accountId).id;
		for (const path of [
			'/support',
			'/support/accounts',
			`/support/accounts/${accountId}`,
			`/support/appeals/${appealId}`,
			'/support/audit'
		]) {
			const { page, context } = await asAgent(browser, baseURL, path);
			try {
				await expect(page).toHaveURL(new RegExp(`${path}$`));
				await sweep(page);
			} finally {
				await context.close();
			}
		}
	});
});
