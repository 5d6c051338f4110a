import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import CheckReport from '../../src/lib/components/CheckReport.svelte';
import type { CheckReport as Report } from '../../src/lib/types/check-report';
import { reportFactory, reports } from '../mocks/reports';

const report = (nextSteps: Report['nextSteps'], registered: boolean): Report => ({
	identifier: { kind: 'email', masked: 'a***@e***.com' },
	registered,
	warnings: [],
	networkCountry: 'CN',
	nextSteps,
	tier: 'public',
	checkedAt: '2026-11-26T12:00:00.000Z'
});

/** The small form a step's button submits. */
const formOf = (name: string) => screen.getByRole('button', { name }).closest('form')!;

describe('CheckReport next steps (R14: what was checked goes on by POST, never in a URL)', () => {
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

describe('CheckReport next steps that only fill the next page (R14: a POST, never a URL)', () => {
	const carried = (form: HTMLFormElement, identifier: string, country: string) => {
		expect(form).toHaveAttribute('method', 'POST');
		expect(form.querySelector('input[type="hidden"][name="identifier"]')).toHaveValue(identifier);
		expect(form.querySelector('input[type="hidden"][name="country"]')).toHaveValue(country);
		// Only what the page fills: no "continue", no code, nothing in an address.
		expect(form.querySelectorAll('input')).toHaveLength(2);
		expect(document.querySelector('a[href*="example.com"], a[href*="8613"]')).toBeNull();
	};

	it('"Sign in" posts what was checked to the sign-in page\'s fromCheck action', () => {
		render(CheckReport, {
			report: report([{ action: 'sign_in', href: '/login' }], true),
			identifier: 'a@example.com',
			country: 'CN'
		});
		const form = formOf('Sign in');
		expect(form).toHaveAttribute('action', '/login?/fromCheck');
		carried(form, 'a@example.com', 'CN');
		expect(screen.queryByRole('link', { name: 'Sign in' })).not.toBeInTheDocument();
	});

	it('"Change the bound email or phone" posts the checked contact to the contact page', () => {
		render(CheckReport, {
			report: report([{ action: 'change_contact', href: '/account/contact' }], true),
			identifier: '13800138000',
			country: 'CN'
		});
		const form = formOf('Change the bound email or phone');
		expect(form).toHaveAttribute('action', '/account/contact?/fromCheck');
		carried(form, '13800138000', 'CN');
	});

	it('"Appeal" posts what was checked as the lost contact to the appeal page', () => {
		render(CheckReport, {
			report: report([{ action: 'appeal', href: '/appeal' }], true),
			identifier: 'a@example.com',
			country: ''
		});
		const form = formOf('Lost access to this email or phone? Appeal');
		expect(form).toHaveAttribute('action', '/appeal?/fromCheck');
		carried(form, 'a@example.com', '');
	});

	it('"Turn on two-step verification" stays a plain link (nothing typed goes there)', () => {
		render(CheckReport, {
			report: report([{ action: 'turn_on_two_step', href: '/account/security/two-step' }], true),
			identifier: 'a@example.com',
			country: 'CN'
		});
		expect(screen.getByRole('link', { name: 'Turn on two-step verification' })).toHaveAttribute(
			'href',
			'/account/security/two-step'
		);
	});
});

const draw = (report: Report) => render(CheckReport, { report, identifier: 'x', country: 'CN' });

describe('CheckReport: one statement per fact, in words for an email or a phone (R13)', () => {
	it('an unregistered email: "not registered" once, and advice about an address', () => {
		draw(reports.unregistered);
		const article = screen.getByRole('article');
		expect(article.textContent?.match(/not registered|no account/gi)).toEqual(['Not registered']);
		expect(screen.getByText(/mistyped address/)).toBeInTheDocument();
		expect(screen.getByRole('button', { name: 'Register this address' })).toBeInTheDocument();
	});

	it('an unregistered phone number: advice about a number, never a "mistyped email"', () => {
		draw(reports.unregisteredPhone);
		const article = screen.getByRole('article');
		expect(article).toHaveTextContent(/mistyped number/);
		expect(article).not.toHaveTextContent(/email|address/i);
		expect(screen.getByRole('button', { name: 'Register this number' })).toBeInTheDocument();
	});

	it('a registered account: the badge says so, the guidance only what to do', () => {
		draw(reports.registered);
		const article = screen.getByRole('article');
		expect(screen.getByText('Registered · active')).toHaveClass('badge');
		expect(article.textContent?.match(/an account uses/gi) ?? []).toEqual([]);
		expect(article).toHaveTextContent(/no longer receive email at this address/);
	});

	it('a code pending for a phone number was sent to "this number"', () => {
		draw(
			reportFactory({
				identifier: { kind: 'phone', masked: '+86 139****0000' },
				verification: { pending: true, purpose: 'register', expiresAt: '2026-11-26T12:05:00.000Z' },
				nextSteps: [{ action: 'continue_registration', href: '/register' }]
			})
		);
		const pending = document.querySelector('[data-code="code_pending"]')!;
		expect(pending).toHaveTextContent(/sent to this number/);
		// The notice says it once: no registration advice and no "a code is waiting" beside it.
		expect(screen.getByRole('article')).not.toHaveTextContent(
			/Registration is free|A code is waiting/
		);
	});
});

describe("CheckReport: the network's country (R9)", () => {
	it('an email on a foreign network: its own callout, not a bullet of a list', () => {
		draw(reports.ipMismatchUnregistered);
		const warning = document.querySelector('[data-code="ip_country_mismatch"]')!;
		expect(warning).toHaveTextContent(
			'Your network appears to be in United States, not the country you intend to use.'
		);
		expect(warning).toHaveClass('callout', 'callout-attention');
		expect(warning.closest('li, ul')).toBeNull();
		// The only warning: no "Warnings" heading over a single callout.
		expect(screen.queryByRole('heading', { name: 'Warnings' })).not.toBeInTheDocument();
	});

	it('an unknown network country is said plainly, as information', () => {
		draw(reports.networkUnknown);
		const note = document.querySelector('[data-code="network_country_unknown"]')!;
		expect(note).toHaveTextContent("We could not tell your network's country");
		expect(note).toHaveClass('callout', 'callout-info');
	});

	it('a known network country with nothing to warn of says nothing about it', () => {
		draw(reports.unregistered);
		expect(document.querySelector('[data-code="ip_country_mismatch"]')).toBeNull();
		expect(screen.queryByText(/could not tell your network/)).not.toBeInTheDocument();
	});

	it('the other warnings are callouts under their heading, none inside a bullet', () => {
		draw(
			reportFactory({
				...reports.underReview,
				networkCountry: 'US',
				warnings: [...reports.ipMismatch.warnings, ...reports.underReview.warnings]
			})
		);
		expect(screen.getByRole('heading', { name: 'Warnings' })).toBeInTheDocument();
		for (const code of ['ip_country_mismatch', 'under_review'])
			expect(document.querySelector(`[data-code="${code}"]`)!.closest('li, ul')).toBeNull();
		expect(document.querySelector('[data-code="ip_country_mismatch"]')).toHaveTextContent(
			/not the country of this account/
		);
	});
});
