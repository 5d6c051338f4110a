import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { e2eDatabase } from '../../playwright.config';
import { accountFactory } from '../support/factories';
import type { NewAccount } from '../../src/lib/server/db/schema';

/** Inserts a row straight into the running server's SQLite file (WAL allows it). */
function insert(table: string, row: Record<string, unknown>, file = e2eDatabase): void {
	const db = new BetterSqlite3(file);
	try {
		const columns = Object.keys(row);
		db.prepare(
			`insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`
		).run(row);
	} finally {
		db.close();
	}
}

function insertAccount(overrides: Partial<NewAccount>, file = e2eDatabase): NewAccount {
	const account = accountFactory({ id: randomUUID(), ...overrides });
	insert('accounts', { ...account }, file);
	return account;
}

async function expectNoViolations(page: Page): Promise<void> {
	const results = await new AxeBuilder({ page }).analyze();
	expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

type Axe = (page: Page) => Promise<void>;

/** Waits until the page is hydrated when JavaScript runs, as a person waits for a page to load. */
export async function ready(page: Page, javaScriptEnabled: boolean): Promise<void> {
	if (javaScriptEnabled) await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
}

export const test = base.extend<{
	db: { insert: typeof insert; insertAccount: typeof insertAccount };
	axe: Axe;
}>({
	page: async ({ page, javaScriptEnabled }, use) => {
		if (javaScriptEnabled !== false) {
			const goto = page.goto.bind(page);
			page.goto = async (url, options) => {
				const response = await goto(url, options);
				await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
				return response;
			};
		}
		await use(page);
	},
	// eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern
	db: async ({}, use) => use({ insert, insertAccount }),
	/**
	 * Fails the test on any axe violation in the page as it is now. axe runs inside the page, so
	 * for a JavaScript-off page the server-rendered DOM is scanned in a second, script-free copy.
	 */
	axe: async ({ javaScriptEnabled, browser }, use) => {
		await use(async (page) => {
			if (javaScriptEnabled !== false) return expectNoViolations(page);
			const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
			const context = await browser.newContext({ javaScriptEnabled: true });
			try {
				const copy = await context.newPage();
				await copy.route(page.url(), (route) =>
					route.fulfill({ body: html, contentType: 'text/html' })
				);
				await copy.goto(page.url());
				await expectNoViolations(copy);
			} finally {
				await context.close();
			}
		});
	}
});
export { expect };
