import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import CheckForm from '../../src/lib/components/CheckForm.svelte';
import { server } from '../mocks/node';
import { reports } from '../mocks/reports';

function renderForm(props: Partial<{ ipCountry: string | null; initial: object }> = {}) {
	render(CheckForm, { countries: ['CN', 'US', 'RU'], ipCountry: null, ...props });
	return userEvent.setup();
}

async function check(user: ReturnType<typeof userEvent.setup>, identifier: string) {
	await user.type(screen.getByLabelText('Email or phone number'), identifier);
	await user.click(screen.getByRole('button', { name: 'Check' }));
}

describe('CheckForm (R12–R14, JavaScript on)', () => {
	it('R13: shows "not registered" and the register step for an unknown email, in the live region', async () => {
		const user = renderForm();
		await check(user, 'nobody@example.com');
		const result = await screen.findByRole('region', { name: 'Check result' });
		expect(result).toHaveAttribute('aria-live', 'polite');
		expect(await screen.findByText(/is not registered/)).toBeInTheDocument();
		expect(screen.getByText('n***e@e***.com', { exact: false })).toBeInTheDocument();
		expect(screen.getByRole('link', { name: 'Register this address' })).toHaveAttribute('href', '/register');
	});

	it('R13: shows "registered" with sign-in and forgot-password steps', async () => {
		const user = renderForm();
		await check(user, 'registered@example.com');
		expect(await screen.findByText(/is registered \(active\)/)).toBeInTheDocument();
		expect(screen.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/login');
		expect(screen.getByRole('link', { name: 'Forgot your password?' })).toHaveAttribute('href', '/forgot-password');
	});

	it('R13: says when an account is under risk review', async () => {
		const user = renderForm();
		await check(user, '+8613800138000');
		expect(await screen.findByText(/under risk review/)).toBeInTheDocument();
	});

	it('R13: tells the person a code is pending and until when', async () => {
		const user = renderForm();
		await check(user, 'pending@example.com');
		expect(await screen.findByText(/verification code was sent/)).toBeInTheDocument();
	});

	it('R1: a malformed email shows the server\'s message tied to the field', async () => {
		const user = renderForm();
		await check(user, 'john.gmail.com');
		const message = await screen.findByText(/This email address is not valid/);
		const input = screen.getByLabelText('Email or phone number');
		expect(input).toHaveAttribute('aria-invalid', 'true');
		expect(input.getAttribute('aria-describedby')).toContain(message.id);
	});

	it('sends the chosen country with the identifier (R2), and the identifier only in the body (R14)', async () => {
		let seen: { url: string; body: unknown } | undefined;
		server.use(
			http.post('*/api/v1/check', async ({ request }) => {
				seen = { url: request.url, body: await request.json() };
				return HttpResponse.json(reports.underReview);
			})
		);
		const user = renderForm({ ipCountry: 'CN' });
		expect(screen.getByLabelText(/Country of the phone number/)).toHaveValue('CN');
		await check(user, '138 0013 8000');
		await screen.findByText(/under risk review/);
		expect(seen?.body).toEqual({ identifier: '138 0013 8000', country: 'CN' });
		expect(seen?.url).not.toContain('138');
	});

	it('keeps the form usable and says so when the server cannot be reached', async () => {
		server.use(http.post('*/api/v1/check', () => HttpResponse.error()));
		const user = renderForm();
		await check(user, 'nobody@example.com');
		expect(await screen.findByText(/Could not reach the server/)).toBeInTheDocument();
		expect(screen.getByRole('button', { name: 'Check' })).toBeEnabled();
	});

	it('R14: renders the answer the form action gave when JavaScript was off', () => {
		renderForm({ initial: { identifier: 'registered@example.com', report: reports.registered } });
		expect(screen.getByText(/is registered/)).toBeInTheDocument();
		expect(screen.getByLabelText('Email or phone number')).toHaveValue('registered@example.com');
	});
});
