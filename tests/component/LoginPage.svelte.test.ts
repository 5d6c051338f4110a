import { render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import LoginPage from '../../src/routes/login/+page.svelte';

/**
 * Issue 24: a fresh /login showed "The passkey did not sign you in" on a page nobody touched, when
 * the autofill offer the page starts by itself met a server without passkeys (503).
 */
const passkeyClient = vi.hoisted(() => ({
	browserSupportsWebAuthn: vi.fn(() => true),
	browserSupportsWebAuthnAutofill: vi.fn(async () => true),
	signInWithPasskey: vi.fn()
}));
vi.mock('$lib/passkey-client', () => passkeyClient);
vi.mock('$app/navigation', () => ({ goto: vi.fn() }));

const data = (passkeys: boolean) =>
	({ countries: ['CN', 'US'], ipCountry: null, secondFactor: null, passkeys }) as never;

beforeEach(() => passkeyClient.signInWithPasskey.mockReset());

describe('/login and passkeys', () => {
	it('offers no passkey and asks the browser for none when the server has none (no ORIGIN)', async () => {
		render(LoginPage, { data: data(false), form: null });
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(screen.queryByRole('button', { name: 'Use a passkey instead' })).toBeNull();
		expect(passkeyClient.signInWithPasskey).not.toHaveBeenCalled();
		expect(screen.queryByRole('alert')).toBeNull();
	});

	it('says nothing when the autofill offer it started is refused before the browser asked', async () => {
		passkeyClient.signInWithPasskey.mockResolvedValue({
			ok: false,
			code: 'rate_limited',
			asked: false
		});
		render(LoginPage, { data: data(true), form: null });
		await waitFor(() => expect(passkeyClient.signInWithPasskey).toHaveBeenCalledWith(true));
		expect(screen.getByRole('button', { name: 'Use a passkey instead' })).toBeVisible();
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(screen.queryByRole('alert')).toBeNull();
	});

	it('still tells the person when a passkey they chose did not sign them in', async () => {
		passkeyClient.signInWithPasskey.mockResolvedValue({ ok: false, code: 'passkey_invalid' });
		render(LoginPage, { data: data(true), form: null });
		expect(
			await screen.findByText('The passkey did not sign you in. Try again or use your password.')
		).toBeVisible();
	});
});
