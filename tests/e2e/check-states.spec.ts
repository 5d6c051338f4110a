import type { APIRequestContext, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { e2eStrictDatabase, strictPort } from '../../playwright.config';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

/**
 * R13: every state of the report on the real server, JavaScript on and off, in English and
 * Simplified Chinese, each axe-clean. `DOCS_SCREENSHOTS=1` writes the screenshots in docs/.
 */
const PASSWORD = 'a long and quiet river';
const HOUR = 3_600_000;
type Db = Parameters<Parameters<typeof test>[2]>[0]['db'];
interface Seeded {
	identifier: string;
	/** Sign in as the owner first: verified fields are the owner's to see (R15a). */
	owner?: boolean;
	ip?: string;
	base?: string;
	/** Repeat the check this many times first (rate limit). */
	repeat?: number;
}

async function serverNow(request: APIRequestContext, base?: string): Promise<number> {
	const res = await request.post(`${base ?? ''}/api/test/clock`, { data: { advanceMs: 0 } });
	return Date.parse((await res.json()).now);
}

const passwordHash = hashPassword(PASSWORD);

const states: Record<
	string,
	{ marker: string; seed: (db: Db, request: APIRequestContext) => Promise<Seeded> }
> = {
	unregistered: {
		marker: '[data-registered="false"]',
		seed: async () => ({ identifier: uniqueEmail('state-new') })
	},
	registered: {
		marker: '[data-registered="true"][data-status="active"]',
		seed: async (db) => ({
			identifier: db.insertAccount({ email: uniqueEmail('state-reg') }).email!
		})
	},
	'under-review': {
		marker: '[data-code="under_review"]',
		seed: async (db) => ({
			identifier: db.insertAccount({ email: uniqueEmail('state-rev'), status: 'under_review' })
				.email!
		})
	},
	disabled: {
		marker: '[data-status="disabled"] [data-verdict="disabled"].badge-danger',
		seed: async (db) => ({
			identifier: db.insertAccount({ email: uniqueEmail('state-dis'), status: 'disabled' }).email!
		})
	},
	'code-pending': {
		// R6: what the code is for, and a live countdown.
		marker: '[data-code="code_pending"][data-purpose="register"] [data-code-countdown]',
		seed: async (db, request) => {
			const identifier = uniqueEmail('state-pending');
			const now = await serverNow(request);
			db.insert('verification_codes', {
				id: randomUUID(),
				purpose: 'register',
				identifier,
				code_hash: 'x',
				attempts: 0,
				created_at: now,
				expires_at: now + 5 * 60_000,
				consumed_at: null,
				account_id: null,
				payload: null
			});
			return { identifier };
		}
	},
	'code-expired': {
		marker: '[data-code="code_expired_unused"]',
		seed: async (db, request) => {
			const identifier = uniqueEmail('state-expired');
			const now = await serverNow(request);
			db.insert('verification_codes', {
				id: randomUUID(),
				purpose: 'register',
				identifier,
				code_hash: 'x',
				attempts: 0,
				created_at: now - 6 * 60_000,
				expires_at: now - 60_000,
				consumed_at: null,
				account_id: null,
				payload: null
			});
			return { identifier };
		}
	},
	'ip-mismatch': {
		marker: '[data-code="ip_country_mismatch"]',
		seed: async (db) => ({
			identifier: db.insertAccount({ email: uniqueEmail('state-ip'), country: 'CN' }).email!,
			ip: '8.8.8.8'
		})
	},
	'low-activity': {
		marker: '[data-code="low_activity"]',
		seed: async (db, request) => {
			const created = (await serverNow(request)) - 80 * HOUR;
			const email = uniqueEmail('state-low');
			db.insertAccount({ email, created_at: created, password_hash: await passwordHash });
			return { identifier: email, owner: true };
		}
	},
	'quota-used-up': {
		// R16: no change left is red, not a full green bar.
		marker: '[data-code="contact_change_quota"][data-level="danger"]',
		seed: async (db, request) => {
			const now = await serverNow(request);
			const email = uniqueEmail('state-quota');
			const account = db.insertAccount({
				email,
				created_at: now - 100 * 24 * HOUR,
				first_order_at: now - 99 * 24 * HOUR,
				password_hash: await passwordHash
			});
			for (const daysAgo of [60, 20]) {
				db.insert('contact_changes', {
					id: randomUUID(),
					account_id: account.id,
					kind: 'owner',
					old_identifier: `old${daysAgo}@example.com`,
					new_identifier: email,
					changed_at: now - daysAgo * 24 * HOUR
				});
			}
			return { identifier: email, owner: true };
		}
	},
	'appeal-open': {
		marker: '[data-code="appeal_open"]',
		seed: async (db, request) => {
			const now = await serverNow(request);
			const email = uniqueEmail('state-appeal');
			const account = db.insertAccount({
				email,
				created_at: now - 10 * 24 * HOUR,
				first_order_at: now,
				password_hash: await passwordHash
			});
			db.insert('appeals', {
				id: randomUUID(),
				reference: `AP-${randomUUID().slice(0, 8)}`,
				status_token_hash: 'x',
				account_id: account.id,
				old_identifier: email,
				new_identifier: uniqueEmail('new'),
				description: 'Lost my phone',
				status: 'submitted',
				locale: 'en',
				created_at: now,
				due_at: now + 48 * HOUR,
				updated_at: now
			});
			return { identifier: email, owner: true };
		}
	},
	'multiple-accounts': {
		marker: '[data-code="multiple_accounts_on_device"]',
		seed: async (db) => {
			const email = uniqueEmail('state-multi');
			db.insertAccount({
				email,
				multiple_accounts_on_device: 1,
				password_hash: await passwordHash
			});
			return { identifier: email, owner: true };
		}
	},
	'strict-hidden': {
		marker: 'article.report:not([data-registered])',
		seed: async (db) => ({
			identifier: db.insertAccount({ email: uniqueEmail('state-strict') }, e2eStrictDatabase)
				.email!,
			base: `http://127.0.0.1:${strictPort}`
		})
	},
	'rate-limited': {
		marker: '[data-code="rate_limited"]',
		seed: async () => ({
			identifier: uniqueEmail('state-limit'),
			base: `http://127.0.0.1:${strictPort}`,
			repeat: 3
		})
	}
};

async function runCheck(page: Page, identifier: string, base: string) {
	await page.goto(`${base}/`);
	await page.locator('#identifier').fill(identifier);
	await page.locator('form.check-form button[type="submit"]').click();
}

for (const locale of ['en', 'zh-CN'] as const) {
	for (const javaScriptEnabled of [true, false]) {
		test.describe(`check states, ${locale}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
			test.use({ javaScriptEnabled, locale, extraHTTPHeaders: { 'accept-language': locale } });

			for (const [name, state] of Object.entries(states)) {
				test(`R13 state: ${name}`, async ({ browser, baseURL, db, axe }) => {
					const context = await browser.newContext({ javaScriptEnabled, locale, baseURL });
					const page = await context.newPage();
					const seeded = await state.seed(db, context.request);
					const base = seeded.base ?? baseURL!;
					await page.setExtraHTTPHeaders({
						'accept-language': locale,
						'x-forwarded-for': seeded.ip ?? '1.0.1.1'
					});
					if (seeded.owner) {
						const res = await context.request.post(`${base}/api/v1/sessions`, {
							data: { identifier: seeded.identifier, password: PASSWORD },
							headers: { 'x-forwarded-for': '1.0.1.1' }
						});
						expect(res.status()).toBe(201);
					}
					for (let i = 0; i < (seeded.repeat ?? 0); i++) {
						await context.request.post(`${base}/api/v1/check`, {
							data: { identifier: seeded.identifier }
						});
					}
					await runCheck(page, seeded.identifier, base);
					const result = page.locator('section.result');
					await expect(
						result.locator(state.marker).or(page.locator(state.marker)).first()
					).toBeVisible();
					await expect(page.locator('html')).toHaveAttribute('lang', locale);
					if (locale === 'zh-CN') await expect(page.locator('h1')).toHaveText('检查您的账户');
					await axe(page);
					if (process.env.DOCS_SCREENSHOTS === '1' && javaScriptEnabled) {
						await page.screenshot({
							path: `docs/screenshots/check-${name}.${locale}.png`,
							fullPage: true
						});
					}
					await context.close();
				});
			}
		});
	}
}
