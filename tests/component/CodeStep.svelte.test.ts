import { act, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import CodeStep from '../../src/lib/components/CodeStep.svelte';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const timing = {
	serverNow: new Date(NOW).toISOString(),
	expiresAt: new Date(NOW + 5 * 60_000).toISOString(),
	resendAfter: new Date(NOW + 60_000).toISOString()
};

function renderStep(error?: {
	code: string;
	message: string;
	field?: string;
	attemptsLeft?: number;
}) {
	render(CodeStep, {
		timing,
		hidden: { identifier: 'a@example.com' },
		error,
		submitLabel: 'Create account',
		sent: 'We sent a 6-digit code to a@example.com.'
	});
}

const tick = (ms: number) => act(() => vi.advanceTimersByTime(ms));
const spoken = () => screen.getByRole('status').textContent?.trim();

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['setInterval', 'Date', 'performance'] }));
afterEach(() => vi.useRealTimers());

describe('CodeStep (R6, JavaScript on)', () => {
	it('counts down every second on screen but speaks once a minute; resend unlocks after 60 s', async () => {
		renderStep();
		const resend = screen.getByRole('button', { name: 'Send a new code' });
		expect(resend).toBeDisabled();
		expect(screen.getByText(/^Valid until/)).toHaveAttribute('data-expires-at', timing.expiresAt);
		expect(spoken()).toBe('The code expires in 5:00.');
		await tick(1000);
		expect(screen.getByText('The code expires in 4:59.')).toHaveAttribute('aria-hidden', 'true');
		expect(spoken()).toBe('The code expires in 5:00.');
		await tick(29_000);
		expect(screen.getByText('The code expires in 4:30.')).toBeInTheDocument();
		expect(spoken()).toBe('The code expires in 5:00.');
		expect(screen.getByText('You can request a new code in 30 s.')).toBeInTheDocument();
		await tick(30_000);
		expect(resend).toBeEnabled();
		expect(spoken()).toBe('The code expires in 4:00. You can request a new code now.');
		await tick(4 * 60_000);
		expect(spoken()).toBe('The code has expired. Request a new one.');
	});

	it('the code field is a one-time code for a numeric keyboard', () => {
		renderStep();
		const field = screen.getByLabelText('6-digit code');
		expect(field).toHaveAttribute('autocomplete', 'one-time-code');
		expect(field).toHaveAttribute('inputmode', 'numeric');
	});

	it('warns at one try left and ties the warning to the field', () => {
		renderStep({ code: 'code_invalid', message: 'Wrong code.', field: 'code', attemptsLeft: 1 });
		expect(screen.getByText(/One try left for this code/)).toHaveAttribute('id', 'code-tries');
		expect(screen.getByLabelText('6-digit code')).toHaveAttribute(
			'aria-describedby',
			'code-error code-tries'
		);
	});

	it('R6: every wrong try says how many are left, tied to the field', () => {
		renderStep({ code: 'code_invalid', message: 'Wrong code.', field: 'code', attemptsLeft: 3 });
		const tries = screen.getByText('3 tries left for this code.');
		expect(tries).toHaveAttribute('id', 'code-tries');
		expect(tries).toHaveAttribute('data-code', 'attempts_left');
		expect(screen.getByLabelText('6-digit code')).toHaveAttribute(
			'aria-describedby',
			'code-error code-tries'
		);
	});

	it('R6: no tries line before a wrong try', () => {
		renderStep();
		expect(screen.queryByText(/try left|tries left/)).toBeNull();
	});

	it('R6: shows where the code went in full, and "Wrong address? Change it" posts back what was typed', () => {
		renderStep();
		expect(screen.getByText('We sent a 6-digit code to a@example.com.')).toHaveAttribute(
			'data-code',
			'sent_to'
		);
		const change = screen.getByRole('button', { name: 'Wrong address? Change it' });
		const form = change.closest('form')!;
		expect(form).toHaveAttribute('method', 'POST');
		expect(form).toHaveAttribute('action', '?/change');
		expect(form.querySelector('input[name="identifier"]')).toHaveValue('a@example.com');
		// Nothing in a link: the address never goes into a URL.
		expect(document.querySelector('a[href*="example.com"]')).toBeNull();
	});

	it('R6: the code field takes focus as the step appears (autofocus, JavaScript on or off)', () => {
		renderStep();
		expect(screen.getByLabelText('6-digit code')).toHaveAttribute('autofocus');
	});
});
