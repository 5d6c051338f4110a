// Takes the README's screenshots from a running server: BASE_URL=http://localhost:3000 node scripts/screenshots.mjs
import { chromium } from '@playwright/test';

const base = process.env.BASE_URL ?? 'http://localhost:3000';
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
});
const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
await page.goto(base);
await page.getByLabel('Email or phone number').fill('john.doe@example.com');
await page.getByRole('button', { name: 'Check' }).click();
await page.getByRole('region', { name: 'Check result' }).getByRole('heading').waitFor();
await page.screenshot({ path: 'docs/screenshots/check.png', fullPage: true });
await browser.close();
console.log('wrote docs/screenshots/check.png');
