/**
 * Screenshots of every page state into docs/screenshots/: `<state>.light.png`, `<state>.dark.png`
 * (desktop, 1024 px) and `<state>.phone.png` (390 px, light), each state reached once and shot
 * three ways. It walks the product as a person does (register, check, appeal, console), so it
 * needs a running server WITH the test hooks (codes from /api/test/outbox, the test clock), its
 * database file (the agent is made with the CLI, R22) and its key ring:
 *
 *   npm run build
 *   export APP_SECRET_KEYS="e2e:$(node -e "process.stdout.write(Buffer.alloc(32, 42).toString('base64'))")"
 *   export DATABASE_URL=file:/tmp/screenshots.db PORT=4399 HOST=127.0.0.1
 *   rm -f /tmp/screenshots.db*; ORIGIN=http://127.0.0.1:$PORT APP_TEST_HOOKS=1 TRUST_PROXY=1 \
 *     NODE_ENV=production BODY_SIZE_LIMIT=20M node build &
 *   BASE_URL=http://127.0.0.1:$PORT node scripts/screenshots.mjs        # ONLY=check,login to pick
 *
 * Chromium is Debian's (/usr/bin/chromium, or CHROMIUM_PATH); never `playwright install`. Shots
 * are in English; LOCALE=zh-CN adds `.zh-CN` to every name and shoots the Chinese pages.
 */
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateTOTP } from '@oslojs/otp';
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import sharp from 'sharp';

const base = process.env.BASE_URL ?? 'http://127.0.0.1:4399';
const locale = process.env.LOCALE ?? 'en';
const only = process.env.ONLY?.split(',');
const out = 'docs/screenshots';
const suffix = locale === 'en' ? '' : `.${locale}`;
const PASSWORD = 'a long and quiet river';
const AGENT_PASSWORD = 'a quiet support desk at dawn';
const stamp = Date.now().toString(36);
const owner = `mei.chen.${stamp}@example.com`;

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
});
const desktop = { width: 1024, height: 720 };
const newPage = async () => {
	const context = await browser.newContext({
		baseURL: base,
		viewport: desktop,
		locale,
		extraHTTPHeaders: {
			'accept-language': locale,
			'x-forwarded-for': `1.0.1.${1 + (Date.now() % 250)}`
		}
	});
	return context.newPage();
};

/** Shoots the page as it stands now three ways, then puts it back as it was. */
async function shoot(page, state) {
	if (only && !only.includes(state)) return;
	await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
	for (const colorScheme of ['light', 'dark']) {
		await page.emulateMedia({ colorScheme });
		await page.screenshot({ path: `${out}/${state}${suffix}.${colorScheme}.png`, fullPage: true });
	}
	await page.emulateMedia({ colorScheme: 'light' });
	await page.setViewportSize({ width: 390, height: 844 });
	await page.screenshot({ path: `${out}/${state}${suffix}.phone.png`, fullPage: true });
	await page.setViewportSize(desktop);
	console.log(`wrote ${out}/${state}${suffix}.{light,dark,phone}.png`);
}

async function visit(page, path, state) {
	await page.goto(path);
	await shoot(page, state);
}

async function latestCode(page, to) {
	for (let tries = 0; tries < 50; tries++) {
		const res = await page.request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
		const code = (await res.json()).messages?.[0]?.code;
		if (code) return code;
		await page.waitForTimeout(100);
	}
	throw new Error(`no code for ${to} in the test outbox`);
}

// TOTP codes come from real time: put the server's test clock back on it.
const page = await newPage();
await page.request.post('/api/test/clock', { data: { now: new Date().toISOString() } });

// The buyer's pages without a session.
for (const [path, state] of [
	['/', 'check'],
	['/login', 'login'],
	['/register', 'register'],
	['/forgot-password', 'forgot-password'],
	['/appeal', 'appeal'],
	['/appeal/status', 'appeal-status-open'],
	['/account/secure?token=from-the-message', 'account-secure'],
	['/support/login', 'support-login']
])
	await visit(page, path, state);

const identifier = page.locator('input[name="identifier"]');
const code = (p) => p.locator('input[name="code"]');
await page.goto('/');
await identifier.fill(`nobody.${stamp}@example.com`);
await identifier.press('Enter');
await page.locator('[data-code], .report').first().waitFor();
await shoot(page, 'check-unregistered');

// Registration, its code step, and the owner's pages.
await page.goto('/register');
await identifier.fill(owner);
await page.locator('input[name="password"]').fill(PASSWORD);
await page.locator('input[name="password"]').press('Enter');
await code(page).waitFor();
await shoot(page, 'register-code');
await code(page).fill(await latestCode(page, owner));
await code(page).press('Enter');
await page.waitForURL(/\/account/);
await shoot(page, 'account');
for (const [path, state] of [
	['/account/contact', 'account-contact'],
	['/account/security', 'account-security'],
	['/account/security/password', 'account-password'],
	['/account/security/sessions', 'account-sessions'],
	['/account/security/two-step', 'account-two-step']
])
	await visit(page, path, state);
await page.goto('/');
await identifier.fill(owner);
await identifier.press('Enter');
await page.locator('[data-code], .report').first().waitFor();
await shoot(page, 'check-registered');

const stranger = await newPage();
await stranger.goto('/forgot-password');
await stranger.locator('input[name="identifier"]').fill(owner);
await stranger.locator('input[name="identifier"]').press('Enter');
await code(stranger).waitFor();
await shoot(stranger, 'forgot-password-code');

// An appeal, its receipt and its status page (R19).
const appellant = await newPage();
const found = `mei.found.${stamp}@example.com`;
await appellant.goto('/appeal');
await appellant.locator('input[name="identifier"]').fill(owner);
await appellant.locator('input[name="newIdentifier"]').fill(found);
await appellant.locator('button[formaction="?/sendCode"]').click();
const newCode = appellant.locator('input[name="newIdentifierCode"]');
await newCode.fill(await latestCode(appellant, found));
await appellant
	.locator('[name="description"]')
	.fill('My phone was stolen in Shenzhen; the SIM was cancelled.');
// A stand-in identity page: grey card, photo box, text lines (sharp renders the SVG).
const scan = await sharp(
	Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="800" height="500">
		<rect width="800" height="500" rx="24" fill="#e8edf3"/><rect x="40" y="40" width="200" height="250" fill="#b8c4d2"/>
		<text x="280" y="90" font-family="sans-serif" font-size="40" font-weight="700" fill="#223">PASSPORT</text>
		<text x="280" y="150" font-family="sans-serif" font-size="28" fill="#334">CHEN, MEI</text>
		<text x="280" y="200" font-family="sans-serif" font-size="24" fill="#445">P&lt;CHN 1990-04-12</text>
		<rect x="40" y="380" width="720" height="24" fill="#c5cfdb"/><rect x="40" y="420" width="720" height="24" fill="#c5cfdb"/>
	</svg>`)
)
	.png()
	.toBuffer();
await appellant
	.locator('#documents')
	.setInputFiles([{ name: 'passport.png', mimeType: 'image/png', buffer: scan }]);
await appellant
	.locator('main form:has([name="description"]) button[type="submit"]:not([formaction])')
	.click();
// Documents are rebuilt in a worker before the receipt shows: allow a busy machine time.
await appellant.locator('main a[href="/appeal/status"]').waitFor({ timeout: 90_000 });
await shoot(appellant, 'appeal-receipt');
await appellant.locator('main a[href="/appeal/status"]').click();
await appellant.locator('[data-status]').waitFor();
await shoot(appellant, 'appeal-status');

// The console, signed in as an admin made with the CLI (R22).
const agentName = `screens-${stamp}`;
const created = execFileSync(
	'npx',
	['tsx', 'scripts/agent.ts', 'create', agentName, '--role', 'admin', '--json'],
	{ env: { ...process.env, AGENT_PASSWORD }, encoding: 'utf8' }
);
const { totpSecret } = JSON.parse(created.trim().split('\n').at(-1));
const agent = await newPage();
await agent.goto('/support/login');
await agent.locator('#username').fill(agentName);
await agent.locator('#password').fill(AGENT_PASSWORD);
await agent.locator('#otp').fill(generateTOTP(decodeBase32IgnorePadding(totpSecret), 30, 6));
await agent.locator('#otp').press('Enter');
await agent.waitForURL(/\/support$/);
await shoot(agent, 'support-queue');
await agent.locator('a[href^="/support/appeals/"]').first().click();
await agent.waitForURL(/\/support\/appeals\//);
await shoot(agent, 'support-appeal');
await visit(agent, '/support/accounts', 'support-accounts');
await agent.locator('input[name="identifier"]').fill(owner);
await agent.locator('input[name="identifier"]').press('Enter');
await agent.waitForURL(/\/support\/accounts\/[\w-]+$/);
await shoot(agent, 'support-account');
await visit(agent, '/support/audit', 'support-audit');
await visit(agent, '/dev/outbox', 'dev-outbox');

await browser.close();
