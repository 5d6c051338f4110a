import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import CheckReport from '../../src/lib/components/CheckReport.svelte';
import type { CheckReport as Report } from '../../src/lib/types/check-report';

const report = (nextSteps: Report['nextSteps'], registered: boolean): Report => ({
	identifier: { kind: 'email', masked: 'a***@e***.com' },
	registered,
	warnings: [],
	nextSteps,
	tier: 'public',
	checkedAt: '2026-11-26T12:00:00.000Z'
});

/** The small form a step's button submits. */
const formOf = (name: string) => screen.getByRole('button', { name }).closest('form')!;

describe('CheckReport next steps (issue 26: what was checked goes on by POST, never in a URL)', () => {
	it('"Register this address" posts the address and country to the register page', () => {
		render(CheckReport, {
			report: report([{ action: 'register', href: '/register' }], false),
			identifier: 'a@example.com',
			country: 'CN'
		});
		const form = formOf('Register this address');
		expect(form).toHaveAttribute('method', 'POST');
		expect(form).toHaveAttribute('action', '/register?/resume');
		expect(form.querySelector('input[name="identifier"]')).toHaveValue('a@example.com');
		expect(form.querySelector('input[name="country"]')).toHaveValue('CN');
		expect(form.querySelector('input[name="continue"]')).toBeNull();
		expect(document.querySelector('a[href*="example.com"]')).toBeNull();
	});

	it('"Enter your code or get a new one" resumes (never the resend action)', () => {
		render(CheckReport, {
			report: report([{ action: 'continue_registration', href: '/register' }], false),
			identifier: 'a@example.com',
			country: 'CN'
		});
		const form = formOf('Enter your code or get a new one');
		expect(form).toHaveAttribute('action', '/register?/resume');
		expect(form.querySelector('input[name="continue"]')).toHaveValue('1');
	});

	it('"Forgot your password?" posts the address to the forgot-password page', () => {
		render(CheckReport, {
			report: report([{ action: 'forgot_password', href: '/forgot-password' }], true),
			identifier: 'a@example.com',
			country: ''
		});
		const form = formOf('Forgot your password?');
		expect(form).toHaveAttribute('action', '/forgot-password?/resume');
		expect(form.querySelector('input[name="identifier"]')).toHaveValue('a@example.com');
	});
});
