import type { APIRequestContext } from '@playwright/test';
import BetterSqlite3 from 'better-sqlite3';
import { e2eDatabase, webhookReceiverPort } from '../../playwright.config';
import { uniqueEmail } from '../support/factories';
import { clockOnRealTime } from './agents';
import { signInNewAgent } from './console-helpers';
import { expect, test } from './fixtures';
import { latestCodeFor } from './outbox';

/**
 * R27 in the console: the first e2e server sends its webhooks to a port nothing listens on
 * (playwright.config.ts), so every delivery there fails; admins see them, agents do not.
 */
const PASSWORD = 'a long and quiet river';
const HOUR = 3_600_000;
let network = (Date.now() % 200) + 11;

/** The account's webhook deliveries, read from the server's SQLite file. */
function deliveriesOf(accountId: string): { id: string; type: string; status: string }[] {
	const db = new BetterSqlite3(e2eDatabase, { readonly: true });
	try {
		return db
			.prepare('select id, type, status from webhook_deliveries where account_id = ? order by seq')
			.all(accountId) as { id: string; type: string; status: string }[];
	} finally {
		db.close();
	}
}

function accountIdOf(email: string): string {
	const db = new BetterSqlite3(e2eDatabase, { readonly: true });
	try {
		return (db.prepare('select id from accounts where email = ?').get(email) as { id: string }).id;
	} finally {
		db.close();
	}
}

/** R8 through the API, from a network of its own (R6's per-network caps): `account.registered`. */
async function register(request: APIRequestContext, email: string): Promise<string> {
	const headers = { 'x-forwarded-for': `1.0.${96 + (++network % 32)}.${network % 250}` };
	const started = await request.post('/api/v1/registrations', {
		data: { identifier: email, password: PASSWORD, country: 'CN' },
		headers
	});
	expect(started.status()).toBe(202);
	const code = await latestCodeFor(request, email);
	const confirmed = await request.post('/api/v1/registrations/confirm', {
		data: { identifier: email, code },
		headers
	});
	expect(confirmed.status()).toBe(201);
	return accountIdOf(email);
}

test.describe('R27: webhook deliveries in the support console', () => {
	test.afterEach(async ({ request }) => clockOnRealTime(request));

	test('R27: an admin sees a registration’s failed delivery by type and host, never its body, and resends it with the keyboard', async ({
		page,
		request,
		axe
	}) => {
		test.setTimeout(60_000);
		await clockOnRealTime(request);
		const email = uniqueEmail('hooked');
		const accountId = await register(request, email);
		const registered = () =>
			deliveriesOf(accountId).find((delivery) => delivery.type === 'account.registered');
		const delivery = registered();
		expect(delivery).toMatchObject({ status: 'pending' });
		// Past R27's 24 hours of retries: the next attempt gives the delivery up.
		expect(
			(
				await request.post('/api/test/clock', {
					data: { now: new Date(Date.now() + 25 * HOUR).toISOString() }
				})
			).status()
		).toBe(200);
		await expect.poll(() => registered()?.status, { timeout: 15_000 }).toBe('failed');

		// The admin signs in on real time again (TOTP).
		await signInNewAgent(page, request, 'admin');
		await page
			.getByRole('navigation', { name: 'Support console' })
			.getByRole('link', { name: 'Webhooks' })
			.click();
		await expect(page.getByRole('heading', { name: 'Webhook deliveries', level: 1 })).toBeVisible();
		const table = page.getByRole('table', { name: 'Webhook deliveries' });
		// Failures first.
		await expect(table.locator('tbody tr').first()).toContainText('Failed');
		const row = table
			.locator('tbody tr')
			.filter({ has: page.locator(`a[href="/support/accounts/${accountId}"]`) })
			.filter({ has: page.locator('code', { hasText: /^account\.registered$/ }) });
		await expect(row).toHaveCount(1);
		await expect(row).toContainText(`127.0.0.1:${webhookReceiverPort}`);
		await expect(row).toContainText('Failed');
		await expect(row).toContainText('ECONNREFUSED');
		// R27: never the body: no JSON, no whole account id, not the path it was sent to.
		const text = await page.getByRole('main').innerText();
		expect(text).not.toMatch(/[{}"]/);
		expect(text).not.toContain(accountId);
		expect(text).not.toContain('/webhooks');
		await axe(page);

		const resend = row.getByRole('button', { name: 'Resend' });
		await resend.focus();
		await expect(resend).toBeFocused();
		await page.keyboard.press('Enter');
		await expect(page.getByRole('status')).toHaveText(
			'The delivery is queued again and goes out within a minute.'
		);
		// Same id, waiting again (and failing again here, inside the new attempt's window).
		await expect(row).toContainText('Waiting');
		expect(registered()).toMatchObject({ id: delivery!.id, status: 'pending' });
		await axe(page);
	});

	test('R27/R22: an agent who is not an admin has no link to the page and is refused it', async ({
		page,
		request
	}) => {
		await signInNewAgent(page, request, 'agent');
		await expect(
			page.getByRole('navigation', { name: 'Support console' }).getByRole('link', {
				name: 'Webhooks'
			})
		).toHaveCount(0);
		const response = await page.goto('/support/webhooks');
		expect(response?.status()).toBe(403);
		await expect(page.getByText('Your role does not allow this.')).toBeVisible();
		await expect(page.getByRole('table', { name: 'Webhook deliveries' })).toHaveCount(0);
		// The action is refused too, whatever id is posted.
		const posted = await page.request.post('/support/webhooks?/resend', {
			form: { id: 'msg_anything' },
			headers: { origin: new URL(page.url()).origin }
		});
		expect(posted.status()).toBe(403);
	});
});
