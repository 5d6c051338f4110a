import type { BrowserContext, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

/**
 * Issue 26, finding 6: times in the person's zone from the server on (the browser's `tz` cookie,
 * else the network country's main zone), with no change after hydration; and /account as a clear
 * hierarchy with the status in words. English and Chinese, JavaScript on and off.
 */
const PASSWORD = 'a long and quiet river';
const passwordHash = hashPassword(PASSWORD);
// The factory's accounts registered at 2026-01-01T00:00:00Z: 08:00 in Shanghai, 19:00 the day
// before in New York.
const REGISTERED = '2026-01-01T00:00:00.000Z';
const words = {
	en: {
		shanghai: /^Jan 1, 2026.*08:00 AM GMT\+8$/,
		newYork: /^Dec 31, 2025.*07:00 PM EST$/,
		status: 'Active',
		checkup: 'Security checkup',
		contact: 'Change the bound email or phone',
		twoStep: 'Two-step verification',
		signOut: 'Sign out'
	},
	'zh-CN': {
		shanghai: /^2026年1月1日.*08:00/,
		newYork: /^2025年12月31日.*19:00/,
		status: '正常',
		checkup: '安全检查',
		contact: '更换绑定的邮箱或手机号',
		twoStep: '两步验证',
		signOut: '退出登录'
	}
} as const;
let network = Date.now() % 200;
/** A fresh address in China for each test (1.0.32.0/19 is a Chinese network). */
const chinaNetwork = () => `1.0.${32 + (++network % 32)}.${(network % 250) + 1}`;

type Db = { insertAccount: (o: { email: string; password_hash: string }) => unknown };

/** Signs in through the English form from `address`, then reads the site in `locale`. */
async function signIn(page: Page, db: Db, baseURL: string, address: string, locale: string) {
	const context = page.context();
	const email = uniqueEmail('zone');
	db.insertAccount({ email, password_hash: await passwordHash });
	await context.setExtraHTTPHeaders({ 'x-forwarded-for': address });
	await context.addCookies([{ name: 'PARAGLIDE_LOCALE', value: 'en', url: baseURL }]);
	await page.goto('/login');
	await page.getByLabel('Email or phone number').fill(email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/account$/);
	await context.addCookies([{ name: 'PARAGLIDE_LOCALE', value: locale, url: baseURL }]);
}

const setZoneCookie = (context: BrowserContext, baseURL: string, zone: string) =>
	context.addCookies([{ name: 'tz', value: zone, url: baseURL }]);
const zoneCookie = async (context: BrowserContext) =>
	(await context.cookies()).find((c) => c.name === 'tz')?.value;

/** The "Registered" time exactly as the server sends it, before any script runs. */
async function serverText(page: Page): Promise<string> {
	const html = await (await page.request.get('/account')).text();
	const match = html.match(new RegExp(`<time datetime="${REGISTERED}">([^<]*)</time>`));
	expect(match, 'the server renders the registration time').not.toBeNull();
	return match![1]!;
}
const shown = (page: Page) => page.locator(`time[datetime="${REGISTERED}"]`);

/** Counts every change to a <time> element's text from the first parsed byte on (hydration too). */
const watchTimes = (page: Page) =>
	page.addInitScript(() => {
		const w = window as unknown as { timeChanges: number };
		w.timeChanges = 0;
		new MutationObserver((records) => {
			for (const r of records) {
				// The parser only adds nodes; a re-render changes a text or replaces a node.
				const changed = r.type === 'characterData' || r.removedNodes.length > 0;
				const inTime = r.target.nodeName === 'TIME' || r.target.parentElement?.closest('time');
				if (changed && inTime) w.timeChanges++;
			}
		}).observe(document, { subtree: true, childList: true, characterData: true });
	});
const timeChanges = (page: Page) =>
	page.evaluate(() => (window as unknown as { timeChanges: number }).timeChanges);

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'on' : 'off';
	for (const locale of ['en', 'zh-CN'] as const) {
		const t = words[locale];
		test.describe(`R14 in ${locale} with JavaScript ${js}`, () => {
			test.use({ javaScriptEnabled, locale, timezoneId: 'Asia/Shanghai' });

			test('the tz cookie wins over the network: the server already renders Shanghai time and hydration changes nothing', async ({
				page,
				db,
				baseURL
			}) => {
				// A US network would mean New York; the browser's cookie says Shanghai.
				await signIn(page, db, baseURL!, '8.8.8.8', locale);
				await setZoneCookie(page.context(), baseURL!, 'Asia/Shanghai');
				const before = await serverText(page);
				expect(before).toMatch(t.shanghai);
				if (javaScriptEnabled) await watchTimes(page);
				await page.goto('/account');
				await expect(shown(page)).toHaveText(before);
				if (javaScriptEnabled) expect(await timeChanges(page), 'no time changed').toBe(0);
			});

			test('without a cookie, a network in China means Shanghai time, on the server too', async ({
				page,
				db,
				baseURL
			}) => {
				await signIn(page, db, baseURL!, chinaNetwork(), locale);
				await page.context().clearCookies({ name: 'tz' });
				const before = await serverText(page);
				expect(before).toMatch(t.shanghai);
				await page.context().clearCookies({ name: 'tz' });
				if (javaScriptEnabled) await watchTimes(page);
				await page.goto('/account');
				await expect(shown(page)).toHaveText(before);
				if (javaScriptEnabled) expect(await timeChanges(page), 'no time changed').toBe(0);
				// With JavaScript the page tells the server the browser's zone for the next pages.
				expect(await zoneCookie(page.context())).toBe(
					javaScriptEnabled ? 'Asia%2FShanghai' : undefined
				);
			});

			test('/account: the status as a word with a badge, the safety actions first, sign out secondary', async ({
				page,
				db,
				baseURL,
				axe
			}) => {
				await signIn(page, db, baseURL!, chinaNetwork(), locale);
				await page.goto('/account');
				const status = page.locator('[data-status]');
				await expect(status).toHaveText(t.status);
				await expect(status).toHaveClass(/badge-ok/);
				const card = page.locator('section', { has: status });
				await expect(card.getByRole('link')).toHaveText([t.checkup, t.contact, t.twoStep]);
				await expect(card.getByRole('link', { name: t.checkup })).toHaveClass(/^button$/);
				await expect(card.getByRole('link', { name: t.contact })).toHaveClass(/btn-secondary/);
				await expect(page.getByRole('button', { name: t.signOut })).toHaveClass(/btn-secondary/);
				// Nothing reads as an enum value.
				await expect(page.locator('main')).not.toContainText(/\b(under_review|active)\b/);
				await axe(page);
			});
		});
	}
}

test.describe('R14: a browser in another zone than its network', () => {
	test.use({ timezoneId: 'America/New_York' });

	test('the first page follows the browser once it runs, and the next is rendered so by the server', async ({
		page,
		db,
		baseURL
	}) => {
		await signIn(page, db, baseURL!, chinaNetwork(), 'en');
		await page.context().clearCookies({ name: 'tz' });
		expect(await serverText(page)).toMatch(words.en.shanghai);
		await page.context().clearCookies({ name: 'tz' });
		await watchTimes(page);
		await page.goto('/account');
		await expect(shown(page)).toHaveText(words.en.newYork);
		// The observer sees the switch: it would miss nothing in the tests above.
		expect(await timeChanges(page)).toBeGreaterThan(0);
		expect(await zoneCookie(page.context())).toBe('America%2FNew_York');
		expect(await serverText(page)).toMatch(words.en.newYork);
	});
});

for (const locale of ['en', 'zh-CN'] as const) {
	test.describe(`R14: /account in ${locale} is axe-clean in light and dark, at 390 px and desktop`, () => {
		test.use({ locale });
		for (const viewport of [
			{ width: 390, height: 844 },
			{ width: 1280, height: 800 }
		]) {
			test(`at ${viewport.width} px`, async ({ page, db, baseURL }) => {
				await page.setViewportSize(viewport);
				await signIn(page, db, baseURL!, chinaNetwork(), locale);
				await page.goto('/account');
				for (const colorScheme of ['light', 'dark'] as const) {
					await page.emulateMedia({ colorScheme });
					const { violations } = await new AxeBuilder({ page }).analyze();
					expect(
						violations.map((v) => `${v.id}: ${v.help}`),
						`axe in ${colorScheme}`
					).toEqual([]);
				}
				const overflow = await page.evaluate(
					() => document.documentElement.scrollWidth - document.documentElement.clientWidth
				);
				expect(overflow, 'nothing scrolls sideways').toBeLessThanOrEqual(0);
			});
		}
	});
}
