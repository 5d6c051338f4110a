import { randomUUID } from 'node:crypto';
import type { APIRequestContext, Page } from '@playwright/test';
import type { NewAccount } from '../../src/lib/server/db/schema';
import { uniqueEmail } from '../support/factories';
import { AGENT_PASSWORD, clockOnRealTime, createAgentWithCli, totpNow } from './agents';

type Insert = (table: string, row: Record<string, unknown>) => void;

/** R22: an agent or admin made with the CLI, as an operator would, then signed in on `page`. */
export async function signInNewAgent(
	page: Page,
	request: APIRequestContext,
	role: 'agent' | 'admin',
	labels = {
		username: 'Username',
		password: 'Password',
		otp: 'Authenticator code',
		submit: 'Sign in'
	}
): Promise<{ id: string; username: string }> {
	await clockOnRealTime(request);
	const username = `e2e-con-${role}-${randomUUID().slice(0, 8)}`;
	const agent = createAgentWithCli(username, undefined, role);
	await page.goto('/support/login');
	await page.getByLabel(labels.username).fill(username);
	await page.getByLabel(labels.password).fill(AGENT_PASSWORD);
	await page.getByLabel(labels.otp).fill(totpNow(agent.totpSecret));
	await page.getByRole('button', { name: labels.submit }).click();
	await page.waitForURL(/\/support$/);
	return { id: agent.id, username };
}

/** R20: a submitted appeal against `accountId`, due 48 h after now (the server's clock is real time). */
export function insertAppeal(
	insert: Insert,
	input: {
		accountId: string | null;
		oldIdentifier: string;
		newIdentifier: string;
		/** §8: the filing network's country (evidence), null when unknown. */
		ipCountry?: string | null;
		/** Other columns as the recovery flow leaves them (status, rebind_due_at, cancelled_*). */
		extra?: Record<string, unknown>;
	}
): { id: string; reference: string } {
	const now = Date.now();
	const id = randomUUID();
	const tail = randomUUID().replace(/-/g, '').toUpperCase();
	const reference = `AP-${tail.slice(0, 4)}-${tail.slice(4, 8)}`;
	insert('appeals', {
		id,
		reference,
		status_token_hash: randomUUID(),
		account_id: input.accountId,
		old_identifier: input.oldIdentifier,
		new_identifier: input.newIdentifier,
		description: 'My phone was stolen; the SIM is gone.',
		status: 'submitted',
		locale: 'en',
		created_at: now,
		due_at: now + 48 * 3_600_000,
		updated_at: now,
		ip_country: input.ipCountry ?? null,
		...input.extra
	});
	insert('audit_events', {
		at: now,
		actor_kind: 'anonymous',
		action: 'appeal.submitted',
		subject_kind: 'appeal',
		subject_id: id,
		ip: '203.0.113.9',
		details: JSON.stringify({ reference, documents: 1, accountFound: input.accountId !== null })
	});
	return { id, reference };
}

/**
 * R19/R20: an account whose email was lost (its other columns from `account`), and the appeal
 * filed for it from a new email (`ipCountry`, `extra`: as `insertAppeal` takes them).
 */
export function appealedAccount(
	db: { insert: Insert; insertAccount: (overrides: Partial<NewAccount>) => NewAccount },
	account: Partial<NewAccount> = {},
	filed: { ipCountry?: string | null; extra?: Record<string, unknown> } = {}
): { account: NewAccount; appeal: { id: string; reference: string } } {
	const lost = uniqueEmail('lost');
	const row = db.insertAccount({ email: lost, ...account });
	const appeal = insertAppeal(db.insert, {
		accountId: row.id,
		oldIdentifier: lost,
		newIdentifier: uniqueEmail('found'),
		...filed
	});
	return { account: row, appeal };
}

/** True when the page scrolls sideways (the 390 px rule). */
export const overflowsSideways = (page: Page): Promise<boolean> =>
	page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
