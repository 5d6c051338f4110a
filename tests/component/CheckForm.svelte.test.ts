import { cleanup, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import CheckForm from '../../src/lib/components/CheckForm.svelte';
import { server } from '../mocks/node';
import { reports } from '../mocks/reports';

function renderForm(
	props: Partial<{ ipCountry: string | null; initial: object }> = {},
	timers?: { fake: true }
) {
	render(CheckForm, {
		countries: ['CN', 'US', 'RU'],
		ipCountry: null,
		now: '2026-11-26T12:00:00.000Z',
		...props
	});
	return userEvent.setup(timers ? { advanceTimers: vi.advanceTimersByTime } : {});
}

async function check(user: ReturnType<typeof userEvent.setup>, identifier: string) {
	await user.type(screen.getByLabelText('Email or phone number'), identifier);
	await user.click(screen.getByRole('button', { name: 'Check' }));
	return screen.findByRole('region', { name: 'Check result' });
}

// The report and the retry wait load on first use (answer-parts.ts); loaded once here, so they are
// in place by the time the mocked API answers.
beforeAll(async () => {
	await import('../../src/lib/components/check-answer');
});

afterEach(() => {
	vi.useRealTimers();
});

describe('CheckForm: one test per report state (R13, JavaScript on)', () => {
	it('unregistered: "not registered", the register step and the common failure causes', async () => {
		const result = await check(renderForm(), 'nobody@example.com');
		expect(result).toHaveAttribute('aria-live', 'polite');
		expect(await screen.findByText('Not registered')).toHaveClass('badge');
		// One statement per fact: the badge says "not registered"; the guidance only what to do.
		expect(screen.queryByText(/No account uses/)).not.toBeInTheDocument();
		expect(screen.getByText(/mistyped address/)).toBeInTheDocument();
		// Issue 26: the address goes on to /register in a POST, never the URL.
		const register = screen.getByRole('button', { name: 'Register this address' });
		expect(register.closest('form')).toHaveAttribute('action', '/register?/resume');
		expect(screen.getByText(/code that timed out/)).toBeInTheDocument();
		// R15a: a code to an unregistered address would go to a stranger and show nothing more.
		expect(screen.queryByRole('button', { name: 'Send me a code' })).not.toBeInTheDocument();
	});

	it('registered: sign-in, forgot-password and appeal steps, and a way to verify', async () => {
		await check(renderForm(), 'registered@example.com');
		expect(await screen.findByText('Registered · active')).toHaveClass('badge', 'badge-ok');
		expect(screen.getByRole('button', { name: 'Sign in' }).closest('form')).toHaveAttribute(
			'action',
			'/login?/fromCheck'
		);
		const forgot = screen.getByRole('button', { name: 'Forgot your password?' });
		expect(forgot.closest('form')).toHaveAttribute('action', '/forgot-password?/resume');
		expect(screen.getByRole('button', { name: /Appeal/ }).closest('form')).toHaveAttribute(
			'action',
			'/appeal?/fromCheck'
		);
		// The verify panel is part of the report.
		expect(screen.getByRole('article').querySelector('h3#verify-title')).toHaveTextContent(
			"Verify it's you to see details"
		);
	});

	it('under review: status and the warning', async () => {
		await check(renderForm(), '+8613800138000');
		expect(await screen.findByText('Registered · under review')).toHaveClass('badge-attention');
		expect(document.querySelector('[data-code="under_review"]')).toHaveTextContent(/risk review/);
		expect(document.querySelector('[data-code="under_review"]')).toHaveClass(
			'callout',
			'callout-attention'
		);
	});

	it('disabled: only the appeal is offered', async () => {
		await check(renderForm(), 'disabled@example.com');
		expect(await screen.findByText('Registered · disabled')).toHaveClass('badge-danger');
		expect(screen.getByText('If you think this is a mistake, appeal.')).toBeInTheDocument();
		expect(screen.queryByRole('button', { name: 'Sign in' })).not.toBeInTheDocument();
	});

	it('pending code: what it is for, until when, a live countdown, and "enter your code"', async () => {
		await check(renderForm(), 'pendingCode@example.com');
		expect(await screen.findByText(/Enter it before it expires/)).toBeInTheDocument();
		const pending = document.querySelector('[data-code="code_pending"]')!;
		expect(pending).toHaveTextContent(
			/A code to finish creating your account was sent to this address/
		);
		expect(pending).toHaveTextContent(/valid until .*12:05:00/);
		// Counted from the server's answer (12:00:00), not this machine's clock.
		expect(pending.querySelector('[data-code-countdown]')).toHaveTextContent('5:00 left');
		expect(pending.querySelector('[aria-live="polite"]')).toHaveTextContent('5:00 left');
		expect(screen.getByText('Not registered')).toBeVisible();
		// The pending code's notice says what to do; no registration advice beside it.
		expect(screen.queryByText(/Registration is free/)).not.toBeInTheDocument();
		const next = screen.getByRole('button', { name: 'Enter your code or get a new one' });
		// Issue 26: "enter your code" resumes this browser's step and never sends a code.
		expect(next.closest('form')).toHaveAttribute('action', '/register?/resume');
		expect(next.closest('form')?.querySelector('input[name="identifier"]')).toHaveValue(
			'pendingCode@example.com'
		);
		expect(screen.queryByRole('button', { name: 'Register this address' })).not.toBeInTheDocument();
	});

	it('expired code: says it expired unused and to request a new one', async () => {
		await check(renderForm(), 'expiredCode@example.com');
		expect(await screen.findByText(/expired unused/)).toBeInTheDocument();
	});

	it('IP country mismatch: the warning names the network country', async () => {
		await check(renderForm(), 'ipMismatch@example.com');
		expect(await screen.findByText(/network appears to be in United States/)).toBeInTheDocument();
	});

	it('low activity (verified): the warning, the quota meter and the change-contact step', async () => {
		await check(renderForm(), 'lowActivity@example.com');
		expect(await screen.findByText(/low-activity/)).toBeInTheDocument();
		expect(screen.getByText(/0 of 2 changes used/)).toBeInTheDocument();
		expect(
			screen.getByRole('button', { name: 'Change the bound email or phone' }).closest('form')
		).toHaveAttribute('action', '/account/contact?/fromCheck');
		expect(
			screen.queryByRole('heading', { name: "Verify it's you to see details" })
		).not.toBeInTheDocument();
	});

	it('quota used up (verified): used 2 of 2, and wait until the date', async () => {
		await check(renderForm(), 'quotaUsedUp@example.com');
		expect(await screen.findByText(/2 of 2 changes used/)).toBeInTheDocument();
		// None left: a full bar above `high` with the optimum at 0 is red, and the badge says so.
		expect(screen.getByRole('meter')).toHaveProperty('value', 2);
		expect(screen.getByRole('meter')).toHaveProperty('high', 1.5);
		expect(screen.getByRole('meter')).toHaveProperty('optimum', 0);
		expect(document.querySelector('[data-code="contact_change_quota"]')).toHaveAttribute(
			'data-level',
			'danger'
		);
		expect(screen.getByText('0 of 2 left')).toHaveClass('badge-danger');
		expect(document.querySelector('[data-action="wait"]')).toHaveTextContent(/Wait until .*2027/);
	});

	it('one change left (verified): the quota is amber', async () => {
		await check(renderForm(), 'quotaOneLeft@example.com');
		expect(await screen.findByText('1 of 2 left')).toHaveClass('badge-attention');
		expect(screen.getByRole('meter')).toHaveProperty('value', 1);
		expect(document.querySelector('[data-code="contact_change_quota"]')).toHaveAttribute(
			'data-level',
			'attention'
		);
	});

	it('two-step off (verified): security in words and the turn-on step', async () => {
		await check(renderForm(), 'twoStepOff@example.com');
		expect(await screen.findByRole('heading', { name: 'Security' })).toBeInTheDocument();
		const security = document.querySelector('dl.security')!;
		expect(security).toHaveAttribute('data-two-step', 'off');
		expect(security).toHaveTextContent(/Two-step verification\s*Off/);
		expect(security).toHaveTextContent(/Signed-in sessions\s*2/);
		expect(screen.getByRole('link', { name: 'Turn on two-step verification' })).toHaveAttribute(
			'href',
			'/account/security/two-step'
		);
	});

	it('two-step on (verified): on, the passkeys counted, no turn-on step', async () => {
		await check(renderForm(), 'twoStepOn@example.com');
		const security = await screen.findByRole('heading', { name: 'Security' });
		expect(security).toBeInTheDocument();
		expect(document.querySelector('dl.security')).toHaveTextContent(/Passkeys\s*1/);
		expect(
			screen.queryByRole('link', { name: 'Turn on two-step verification' })
		).not.toBeInTheDocument();
	});

	it('public tier: no security section', async () => {
		await check(renderForm(), 'registered@example.com');
		await screen.findByRole('button', { name: 'Sign in' });
		expect(screen.queryByRole('heading', { name: 'Security' })).not.toBeInTheDocument();
	});

	it('appeal open: the warning', async () => {
		await check(renderForm(), 'appealOpen@example.com');
		expect(await screen.findByText(/An appeal for this account is open/)).toBeInTheDocument();
	});

	it('multiple accounts on this device: the warning', async () => {
		await check(renderForm(), 'multipleAccounts@example.com');
		expect(
			await screen.findByText(/Several accounts were registered from this device/)
		).toBeInTheDocument();
	});

	it('strict mode: nothing is said before proof', async () => {
		await check(renderForm(), 'hidden@example.com');
		expect(
			await screen.findByText(
				'For privacy, this check shows nothing about an email address until its owner proves control of it.'
			)
		).toBeInTheDocument();
		expect(screen.getByText('Details hidden')).toHaveClass('badge-neutral');
		expect(screen.queryByText(/Registered|Not registered/)).not.toBeInTheDocument();
		// Registration is hidden here: hiding the verify panel for some addresses would reveal it.
		expect(screen.getByRole('button', { name: 'Send me a code' })).toBeInTheDocument();
	});
});

describe('CheckForm: verifying and errors', () => {
	it("R15a: verify it's you: a code, then the verified report", async () => {
		const user = renderForm();
		await check(user, 'registered@example.com');
		await user.click(await screen.findByRole('button', { name: 'Send me a code' }));
		expect(await screen.findByText(/a code is on its way/)).toBeInTheDocument();
		await user.type(screen.getByLabelText('Code from the message'), '000000');
		await user.click(screen.getByRole('button', { name: 'Show details' }));
		expect(await screen.findByRole('alert')).toHaveTextContent('That code is not right');
		await user.clear(screen.getByLabelText('Code from the message'));
		await user.type(screen.getByLabelText('Code from the message'), '123456');
		await user.click(screen.getByRole('button', { name: 'Show details' }));
		expect(await screen.findByText(/Verified: you proved control/)).toBeInTheDocument();
		expect(screen.getByText(/2 of 2 changes used/)).toBeInTheDocument();
	});

	it('R15: the identifier limit blocks that identifier only, with a countdown and the clock time', async () => {
		vi.useFakeTimers({ shouldAdvanceTime: true });
		const user = renderForm({}, { fake: true });
		await check(user, 'limited@example.com');
		expect(await screen.findByText(/checked too often. Try again in 2 min/)).toBeInTheDocument();
		expect(screen.getByText('You can check a different email or phone number now.')).toBeVisible();
		expect(screen.getByRole('button', { name: 'Check' })).toBeDisabled();
		expect(document.querySelector('[data-retry-countdown]')).toHaveTextContent(
			/You can try again in 1:30, at \d\d:\d\d:\d\d/
		);
		await vi.advanceTimersByTimeAsync(1_000);
		expect(document.querySelector('[data-retry-countdown]')).toHaveTextContent(/in 1:29/);
		// The live region speaks once a minute, not every second.
		expect(screen.getByRole('status')).toHaveTextContent(/in 2:00/);
		const field = screen.getByLabelText('Email or phone number');
		await user.clear(field);
		await user.type(field, 'someone-else@example.com');
		expect(screen.getByRole('button', { name: 'Check' })).toBeEnabled();
		await user.clear(field);
		await user.type(field, 'LIMITED@example.com');
		expect(screen.getByRole('button', { name: 'Check' })).toBeDisabled();
		await vi.advanceTimersByTimeAsync(89_000);
		expect(screen.getByRole('button', { name: 'Check' })).toBeEnabled();
		expect(screen.getByRole('status')).toHaveTextContent('You can try again now.');
	});

	it('R15: the network limit blocks every identifier', async () => {
		const user = renderForm();
		await check(user, 'netLimited@example.com');
		expect(await screen.findByText(/from your network/)).toBeInTheDocument();
		const field = screen.getByLabelText('Email or phone number');
		await user.clear(field);
		await user.type(field, 'someone-else@example.com');
		expect(screen.getByRole('button', { name: 'Check' })).toBeDisabled();
		expect(
			screen.queryByText('You can check a different email or phone number now.')
		).not.toBeInTheDocument();
	});

	it('R9, R12: the intended country is asked for every identifier, emails too', async () => {
		const user = renderForm({ ipCountry: 'CN' });
		const country = () => screen.getByLabelText('The country you mean to use');
		expect(country()).toHaveValue('CN');
		expect(country()).toHaveAccessibleDescription(/compare it with your network's country/);
		const field = screen.getByLabelText('Email or phone number');
		for (const identifier of ['name@example.com', '+86 138 0013 8000', '138 0013 8000']) {
			await user.clear(field);
			await user.type(field, identifier);
			expect(country()).toBeVisible();
		}
	});

	it("R1: a malformed email shows the server's message tied to the field", async () => {
		await check(renderForm(), 'john.gmail.com');
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
		await user.type(screen.getByLabelText('Email or phone number'), '138');
		expect(screen.getByLabelText('The country you mean to use')).toHaveValue('CN');
		await user.clear(screen.getByLabelText('Email or phone number'));
		await check(user, '138 0013 8000');
		await screen.findByText('Registered · under review');
		expect(seen?.body).toEqual({ identifier: '138 0013 8000', country: 'CN' });
		expect(seen?.url).not.toContain('138');
	});

	it('keeps the form usable and says so when the server cannot be reached', async () => {
		server.use(http.post('*/api/v1/check', () => HttpResponse.error()));
		await check(renderForm(), 'nobody@example.com');
		expect(await screen.findByText(/Could not reach the server/)).toBeInTheDocument();
		expect(screen.getByRole('button', { name: 'Check' })).toBeEnabled();
	});

	it('R14: renders the answer the form action gave when JavaScript was off', async () => {
		renderForm({ initial: { identifier: 'registered@example.com', report: reports.registered } });
		// The server renders it at once (tests/e2e/check-states.spec.ts, JavaScript off); in the
		// browser the report's component arrives when the page hydrates.
		expect(await screen.findByText('Registered · active')).toBeInTheDocument();
		expect(screen.getByLabelText('Email or phone number')).toHaveValue('registered@example.com');
	});
});

describe("CheckForm: the intended country's default (R9, R12)", () => {
	it("the network's country first, then the region of the browser's language", async () => {
		const languages = vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['en', 'zh-CN']);
		renderForm({ ipCountry: 'RU' });
		expect(screen.getByLabelText('The country you mean to use')).toHaveValue('RU');
		cleanup();
		renderForm({ ipCountry: null });
		// A bare language ("en") names no country; the first tag with a region does.
		await vi.waitFor(() =>
			expect(screen.getByLabelText('The country you mean to use')).toHaveValue('CN')
		);
		languages.mockRestore();
	});

	it('always changeable, and the chosen one is sent with an email (R9)', async () => {
		let seen: unknown;
		server.use(
			http.post('*/api/v1/check', async ({ request }) => {
				seen = await request.json();
				return HttpResponse.json(reports.ipMismatchUnregistered);
			})
		);
		const user = renderForm({ ipCountry: 'US' });
		await user.selectOptions(screen.getByLabelText('The country you mean to use'), 'CN');
		await check(user, 'traveller@example.com');
		expect(await screen.findByText(/not the country you intend to use/)).toBeInTheDocument();
		expect(seen).toEqual({ identifier: 'traveller@example.com', country: 'CN' });
	});
});
