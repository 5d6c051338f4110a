import { uniqueEmail } from '../support/factories';
import { expect, test } from './fixtures';

/**
 * R9, R12, R13: the check keeps its promise for every identifier. An email nobody registered is
 * compared with the country the person means to use, so a foreign network is warned of before
 * /register; a network whose country cannot be told is said so plainly. JavaScript on and off,
 * in English and Simplified Chinese. 8.8.8.8 is in the US (TRUST_PROXY, X-Forwarded-For);
 * without the header the request comes from loopback, whose country nobody can tell.
 */
const words = {
	en: {
		picker: 'The country you mean to use',
		us: 'United States',
		mismatch: 'not the country you intend to use',
		unknown: "We could not tell your network's country",
		register: 'Register this address',
		submit: 'Check'
	},
	'zh-CN': {
		picker: '您打算使用的国家/地区',
		us: '美国',
		mismatch: '与您打算使用的国家/地区不一致',
		unknown: '我们无法判断您的网络所在的国家/地区',
		register: '注册此账号',
		submit: '检查'
	}
} as const;

for (const javaScriptEnabled of [true, false]) {
	const js = javaScriptEnabled ? 'JavaScript on' : 'JavaScript off';
	for (const locale of ['en', 'zh-CN'] as const) {
		const say = words[locale];

		test.describe(`${js}, ${locale}`, () => {
			test.use({ javaScriptEnabled, locale, extraHTTPHeaders: { 'accept-language': locale } });

			test('R9: an unregistered email on a foreign network is warned', async ({ page, axe }) => {
				await page.setExtraHTTPHeaders({ 'accept-language': locale, 'x-forwarded-for': '8.8.8.8' });
				await page.goto('/');
				const picker = page.getByLabel(say.picker);
				// Preselected from the network, and changeable for an email as for a phone number.
				await expect(picker).toHaveValue('US');
				await picker.selectOption('CN');
				await page.locator('#identifier').fill(uniqueEmail('promise'));
				await page.getByRole('button', { name: say.submit, exact: true }).click();
				const warning = page.locator('[data-code="ip_country_mismatch"]');
				await expect(warning).toContainText(say.us);
				await expect(warning).toContainText(say.mismatch);
				await expect(warning).toHaveClass(/callout-attention/);
				// Its own callout, not a bullet of a list.
				await expect(page.locator('li [data-code="ip_country_mismatch"]')).toHaveCount(0);
				await expect(page.locator('[data-code="network_country_unknown"]')).toHaveCount(0);
				// The intended country goes on to /register with the address (a POST, never the URL).
				const register = page.getByRole('button', { name: say.register });
				await expect(
					register.locator('xpath=ancestor::form').locator('input[name="country"]')
				).toHaveValue('CN');
				await axe(page);
			});

			test('R9: an unknown network country is said plainly', async ({ page }) => {
				await page.goto('/');
				if (javaScriptEnabled && locale === 'zh-CN') {
					// No network country to start from: the region of the browser's language.
					await expect(page.getByLabel(say.picker)).toHaveValue('CN');
				}
				await page.locator('#identifier').fill(uniqueEmail('promise-unknown'));
				await page.getByRole('button', { name: say.submit, exact: true }).click();
				await expect(page.locator('[data-code="network_country_unknown"]')).toContainText(
					say.unknown
				);
				await expect(page.locator('[data-code="ip_country_mismatch"]')).toHaveCount(0);
			});
		});
	}
}
