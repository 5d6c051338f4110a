import type { APIRequestContext, Page } from '@playwright/test';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { e2ePasskeyDatabase, passkeyPort } from '../../playwright.config';
import { uniqueEmail } from '../support/factories';
import { appCode } from '../support/two-step';
import { expect, ready, test } from './fixtures';

const PASSWORD = 'a long and quiet river';

/** The server's clock (the test hooks may have moved it), so codes are computed for its time. */
async function serverClock(request: APIRequestContext, base = '') {
	const res = await request.post(`${base}/api/test/clock`, { data: { advanceMs: 0 } });
	const { now } = (await res.json()) as { now: string };
	const offset = new Date(now).getTime() - Date.now();
	return { now: () => new Date(Date.now() + offset) };
}

/** The next TOTP step on the server: a code already accepted is never accepted again. */
async function nextStep(request: APIRequestContext) {
	await request.post('/api/test/clock', { data: { advanceMs: 30_000 } });
}

async function signInWithPassword(page: Page, email: string, labels = EN) {
	await page.goto('/login');
	await page.getByLabel(labels.identifier).fill(email);
	await page.getByLabel(labels.password, { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: labels.signIn, exact: true }).click();
}

const EN = {
	identifier: 'Email or phone number',
	password: 'Password',
	signIn: 'Sign in',
	setUp: 'Set up an authenticator app',
	code: 'Six-digit code from the app',
	turnOn: 'Turn on',
	secondStep: 'Second step',
	secondCode: 'Code',
	continue: 'Continue',
	on: 'Two-step verification is on.',
	lost: 'Lost your authenticator?',
	appeal: 'Ask support to restore access'
};
const ZH = {
	identifier: '邮箱或手机号码',
	password: '密码',
	signIn: '登录',
	setUp: '设置身份验证器应用',
	code: '应用中的六位验证码',
	turnOn: '开启',
	secondStep: '第二步验证',
	secondCode: '验证码',
	continue: '继续',
	on: '两步验证已开启。',
	lost: '身份验证器丢失了？',
	appeal: '请客服恢复访问'
};

for (const javaScriptEnabled of [true, false]) {
	for (const [locale, labels] of [
		['en', EN],
		['zh-CN', ZH]
	] as const) {
		test.describe(`TOTP two-step, JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${locale}`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('set up with a QR code and key, then sign in with a code and with a recovery code', async ({
				page,
				db,
				axe,
				request
			}) => {
				const account = db.insertAccount({
					email: uniqueEmail('totp'),
					password_hash: await hashPassword(PASSWORD)
				});
				await signInWithPassword(page, account.email!, labels);
				await expect(page).toHaveURL(/\/account$/);
				await page.goto('/account/security/two-step');
				await ready(page, javaScriptEnabled);
				await axe(page);
				await page.locator('#start-password').fill(PASSWORD);
				await page.getByRole('button', { name: labels.setUp }).click();
				const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
				await expect(page.locator('img.qr')).toHaveAttribute(
					'src',
					/^data:image\/svg\+xml;base64,/
				);
				await axe(page);
				const clock = await serverClock(request);
				await page.getByLabel(labels.code).fill(appCode(secret, clock));
				await page.getByRole('button', { name: labels.turnOn }).click();
				const codes = page.getByTestId('recovery-codes').locator('code');
				await expect(codes).toHaveCount(10);
				const recovery = (await codes.first().textContent())!.trim();
				await expect(page.locator('[data-two-step="on"]')).toHaveText(labels.on);
				await axe(page);

				// Sign out, then the password alone leads to the second step, not the account.
				await page.context().clearCookies();
				await signInWithPassword(page, account.email!, labels);
				await expect(page.getByRole('heading', { level: 1 })).toHaveText(labels.secondStep);
				// §7a: a lost authenticator leads on: a recovery code here, or an appeal.
				await expect(page.getByRole('heading', { level: 2, name: labels.lost })).toBeVisible();
				await expect(page.getByRole('link', { name: labels.appeal })).toHaveAttribute(
					'href',
					'/appeal'
				);
				await page.goto('/account');
				await expect(page).toHaveURL(/\/login$/);
				await axe(page);
				await nextStep(request);
				await page.getByLabel(labels.secondCode, { exact: true }).fill('000000');
				await page.getByRole('button', { name: labels.continue }).click();
				await expect(page.locator('#login-error')).toHaveAttribute('data-code', 'code_invalid');
				await page
					.getByLabel(labels.secondCode, { exact: true })
					.fill(appCode(secret, await serverClock(request)));
				await page.getByRole('button', { name: labels.continue }).click();
				await expect(page).toHaveURL(/\/account$/);

				await page.context().clearCookies();
				await signInWithPassword(page, account.email!, labels);
				await page.getByLabel(labels.secondCode, { exact: true }).fill(recovery);
				await page.getByRole('button', { name: labels.continue }).click();
				await expect(page).toHaveURL(/\/account$/);
			});
		});
	}
}

/** Turns TOTP on through the page (the password step, the scan step); returns the key. */
async function turnOnTotp(page: Page, request: APIRequestContext, labels: typeof EN) {
	await page.goto('/account/security/two-step');
	await page.locator('#start-password').fill(PASSWORD);
	await page.getByRole('button', { name: labels.setUp }).click();
	const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
	await page.getByLabel(labels.code).fill(appCode(secret, await serverClock(request)));
	await page.getByRole('button', { name: labels.turnOn }).click();
	await expect(page.getByTestId('recovery-codes').locator('code')).toHaveCount(10);
	return secret;
}

const OFF = {
	en: { turnOff: 'Turn off', confirm: /I confirm: turn off the authenticator app/, on: 'On' },
	'zh-CN': { turnOff: '关闭', confirm: /我确认：关闭身份验证器应用/, on: '已开启' }
};

for (const javaScriptEnabled of [true, false]) {
	for (const [locale, labels, viewport] of [
		['en', EN, { width: 1280, height: 800 }],
		['zh-CN', ZH, { width: 390, height: 844 }]
	] as const) {
		test.describe(`§7a two-step rows, JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${locale}, ${viewport.width} px`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				viewport,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('each factor is a row with its state; "Turn off" is a danger button behind "I confirm"', async ({
				page,
				db,
				axe,
				request
			}) => {
				const words = OFF[locale];
				const account = db.insertAccount({
					email: uniqueEmail('rows'),
					password_hash: await hashPassword(PASSWORD)
				});
				await signInWithPassword(page, account.email!, labels);
				await expect(page).toHaveURL(/\/account$/);
				const secret = await turnOnTotp(page, request, labels);
				await page.goto('/account/security/two-step');
				await ready(page, javaScriptEnabled);
				await expect(page.locator('.factor')).toHaveCount(2);
				await expect(page.locator('#totp-heading + .state')).toHaveText(words.on);
				const turnOff = page.getByRole('button', { name: words.turnOff, exact: true });
				await expect(turnOff).toHaveClass(/btn-danger/);
				for (const colorScheme of ['light', 'dark'] as const) {
					await page.emulateMedia({ colorScheme });
					await axe(page);
				}
				// Without the box ticked nothing is turned off, JS on or off.
				await nextStep(request);
				await page.locator('#disable-password').fill(PASSWORD);
				await page.locator('#disable-code').fill(appCode(secret, await serverClock(request)));
				await turnOff.click();
				await expect(page.locator('#disable-confirm-error')).toHaveAttribute(
					'data-code',
					'confirm_required'
				);
				await expect(page.locator('[data-two-step="on"]')).toBeVisible();
				await axe(page);
				await nextStep(request);
				await page.locator('#disable-password').fill(PASSWORD);
				await page.locator('#disable-code').fill(appCode(secret, await serverClock(request)));
				await page.getByLabel(words.confirm).check();
				await page.getByRole('button', { name: words.turnOff, exact: true }).click();
				await expect(page.locator('[data-two-step="off"]')).toBeVisible();
			});
		});
	}
}

const SUDO = {
	en: { confirm: 'Confirm for 10 minutes', until: /Confirmed until/ },
	'zh-CN': { confirm: '确认 10 分钟', until: /已确认，有效至/ }
};

for (const javaScriptEnabled of [true, false]) {
	for (const [locale, labels, viewport] of [
		['en', EN, { width: 390, height: 844 }],
		['zh-CN', ZH, { width: 1280, height: 800 }]
	] as const) {
		test.describe(`§7a re-authentication window, JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${locale}, ${viewport.width} px`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				viewport,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('the password once opens 10 minutes, shown with its end; the settings then need none', async ({
				page,
				db,
				axe
			}) => {
				const account = db.insertAccount({
					email: uniqueEmail('sudo'),
					password_hash: await hashPassword(PASSWORD)
				});
				await signInWithPassword(page, account.email!, labels);
				await expect(page).toHaveURL(/\/account$/);
				await page.goto('/account/security/two-step');
				await ready(page, javaScriptEnabled);
				await expect(page.locator('#start-password')).toBeVisible();
				await page.locator('#reauth-password').fill(PASSWORD);
				await page.getByRole('button', { name: SUDO[locale].confirm }).click();
				await expect(page.getByTestId('sudo-until')).toHaveText(SUDO[locale].until);
				await expect(page.getByTestId('sudo-until').locator('time')).toHaveAttribute(
					'datetime',
					/T/
				);
				await expect(page.locator('#start-password')).toHaveCount(0);
				for (const colorScheme of ['light', 'dark'] as const) {
					await page.emulateMedia({ colorScheme });
					await axe(page);
				}
				await page.getByRole('button', { name: labels.setUp }).click();
				await expect(page.getByTestId('totp-secret')).toBeVisible();
			});
		});
	}
}

const CODES = {
	en: {
		download: 'Download (.txt)',
		copy: 'Copy',
		print: 'Print',
		copied: 'Copied.',
		make: 'Make new recovery codes'
	},
	'zh-CN': {
		download: '下载（.txt）',
		copy: '复制',
		print: '打印',
		copied: '已复制。',
		make: '生成新的恢复码'
	}
};

for (const javaScriptEnabled of [true, false]) {
	for (const [locale, labels, viewport] of [
		['en', EN, { width: 1280, height: 800 }],
		['zh-CN', ZH, { width: 390, height: 844 }]
	] as const) {
		test.describe(`§7a recovery codes, JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${locale}, ${viewport.width} px`, () => {
			test.use({
				javaScriptEnabled,
				locale,
				viewport,
				extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
			});

			test('download as .txt, copy and print (with JS), make new ones (the old set dies)', async ({
				page,
				context,
				db,
				axe,
				request
			}) => {
				const words = CODES[locale];
				const account = db.insertAccount({
					email: uniqueEmail('codes'),
					password_hash: await hashPassword(PASSWORD)
				});
				await signInWithPassword(page, account.email!, labels);
				await expect(page).toHaveURL(/\/account$/);
				await turnOnTotp(page, request, labels);
				const first = await page.getByTestId('recovery-codes').locator('code').allTextContents();
				const download = page.getByRole('link', { name: words.download });
				await expect(download).toHaveAttribute('download', 'recovery-codes.txt');
				const href = (await download.getAttribute('href'))!;
				expect(href.startsWith('data:text/plain;charset=utf-8,')).toBe(true);
				const text = decodeURIComponent(href.slice(href.indexOf(',') + 1));
				for (const code of first) expect(text).toContain(code.trim());
				if (javaScriptEnabled) {
					await context.grantPermissions(['clipboard-read', 'clipboard-write']);
					await page.getByRole('button', { name: words.copy }).click();
					await expect(page.getByText(words.copied)).toBeVisible();
					const copied = await page.evaluate(() => navigator.clipboard.readText());
					expect(copied.split('\n')).toEqual(first.map((c) => c.trim()));
					await expect(page.getByRole('button', { name: words.print })).toBeVisible();
				} else {
					await expect(page.getByRole('button', { name: words.copy })).toHaveCount(0);
					await expect(page.getByRole('button', { name: words.print })).toHaveCount(0);
				}
				for (const colorScheme of ['light', 'dark'] as const) {
					await page.emulateMedia({ colorScheme });
					await axe(page);
				}
				await page.goto('/account/security/two-step');
				await ready(page, javaScriptEnabled);
				await page.locator('#regenerate-password').fill(PASSWORD);
				await page.getByRole('button', { name: words.make }).click();
				await expect(page.getByTestId('recovery-codes').locator('code')).toHaveCount(10);
				const fresh = await page.getByTestId('recovery-codes').locator('code').allTextContents();
				expect(fresh).toHaveLength(10);
				expect(fresh).not.toContain(first[0]);
				// The old set is gone: the old first code no longer signs in.
				await page.context().clearCookies();
				await signInWithPassword(page, account.email!, labels);
				await page.getByLabel(labels.secondCode, { exact: true }).fill(first[0]!.trim());
				await page.getByRole('button', { name: labels.continue }).click();
				await expect(page.locator('#login-error')).toHaveAttribute('data-code', 'code_invalid');
				await page.getByLabel(labels.secondCode, { exact: true }).fill(fresh[0]!.trim());
				await page.getByRole('button', { name: labels.continue }).click();
				await expect(page).toHaveURL(/\/account$/);
			});
		});
	}
}

test.describe('passkeys through Chromium’s virtual authenticator', () => {
	test.use({ baseURL: `http://localhost:${passkeyPort}` });

	test('register a passkey, then sign in with it as the second factor and as the first', async ({
		page,
		db,
		axe
	}) => {
		const cdp = await page.context().newCDPSession(page);
		await cdp.send('WebAuthn.enable');
		const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
			options: {
				protocol: 'ctap2',
				transport: 'internal',
				hasResidentKey: true,
				hasUserVerification: true,
				isUserVerified: true,
				automaticPresenceSimulation: true
			}
		});
		const account = db.insertAccount(
			{ email: uniqueEmail('passkey'), password_hash: await hashPassword(PASSWORD) },
			e2ePasskeyDatabase
		);
		await signInWithPassword(page, account.email!);
		await expect(page).toHaveURL(/\/account$/);
		await page.goto('/account/security/two-step');
		await page.locator('#passkey-password').fill(PASSWORD);
		await page.getByLabel('Name for the new passkey').fill('Laptop');
		await page.getByRole('button', { name: 'Add a passkey' }).click();
		await expect(page.getByRole('status').filter({ hasText: 'Passkey added.' })).toBeVisible();
		await expect(page.locator('[data-passkey="Laptop"]')).toBeVisible();
		await expect(page.locator('[data-two-step="on"]')).toBeVisible();
		await axe(page);

		// Second factor: the password (sent from this browser: /login would offer the passkey in
		// its autofill at once, and the virtual authenticator answers such a request by itself),
		// then the passkey on the second step.
		await page.context().clearCookies();
		const password = await page.request.post('/api/v1/sessions', {
			data: { identifier: account.email, password: PASSWORD }
		});
		expect(password.status()).toBe(202);
		await page.goto('/login');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Second step');
		await axe(page);
		await page.getByRole('button', { name: 'Use a passkey' }).click();
		await expect(page).toHaveURL(/\/account$/);

		// First factor, conditional UI: /login asks the browser for this site's passkeys in the
		// identifier field's autofill; the virtual authenticator answers with the discoverable one
		// (it verified the person), and the page signs in without a password.
		await page.context().clearCookies();
		await page.goto('/login');
		await expect(page).toHaveURL(/\/account$/);

		// The authenticator holds one discoverable credential, used for both sign-ins.
		const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
		expect(credentials).toHaveLength(1);
		expect(credentials[0]!.isResidentCredential).toBe(true);
		expect(credentials[0]!.signCount).toBeGreaterThanOrEqual(2);

		// §7a: "Remove" is a danger button behind "I confirm"; unticked, the passkey stays.
		await page.goto('/account/security/two-step');
		const remove = page.getByRole('button', { name: 'Remove', exact: true });
		await expect(remove).toHaveClass(/btn-danger/);
		await page.locator('#remove-0').fill(PASSWORD);
		await remove.click();
		await expect(page.locator('#remove-confirm-0-error')).toHaveAttribute(
			'data-code',
			'confirm_required'
		);
		await expect(page.locator('[data-passkey="Laptop"]')).toBeVisible();
		await page.locator('#remove-0').fill(PASSWORD);
		await page.getByLabel(/I confirm: remove Laptop/).check();
		await page.getByRole('button', { name: 'Remove', exact: true }).click();
		await expect(page.getByRole('status').filter({ hasText: 'Passkey removed.' })).toBeVisible();
		await expect(page.locator('[data-passkey="Laptop"]')).toHaveCount(0);
	});
});
