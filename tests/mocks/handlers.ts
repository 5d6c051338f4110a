import { http, HttpResponse } from 'msw';
import { reports, type ReportState } from './reports';
import { twoStepHandlers } from './two-step';

/**
 * The one set of `/api/v1` handlers for UI work without a backend. `checkHandlers` are the calls
 * the check page (`/`) makes from the browser, which `npm run dev:mock` answers in the browser
 * (tests/mocks/browser.ts); component tests get them all (tests/mocks/node.ts). The typed
 * identifier picks the state: `<state>@example.com` for each state in reports.ts, e.g.
 * `underReview@example.com`, `quotaUsedUp@example.com`; `limited@example.com` (429 on the
 * identifier's limit), `netLimited@example.com` (429 on the network's); any other address is
 * unregistered, and a `+86` number is under review. The code `123456` passes.
 */
const malformed =
	'This email address is not valid. Check for a missing "@", a missing domain such as ".com", spaces or commas.';

function stateOf(identifier: string): ReportState | 'limited' | 'netLimited' | 'invalid' {
	if (!identifier.includes('@') && !identifier.startsWith('+')) return 'invalid';
	if (identifier.startsWith('+86')) return 'underReview';
	const local = identifier.split('@')[0] ?? '';
	if (local === 'limited' || local === 'netLimited') return local;
	return local in reports ? (local as ReportState) : 'unregistered';
}

export const checkHandlers = [
	http.post('*/api/v1/check', async ({ request }) => {
		const { identifier = '' } = (await request.json()) as { identifier?: string };
		const state = stateOf(identifier);
		if (state === 'invalid') {
			return HttpResponse.json(
				{
					error: {
						code: 'invalid_identifier',
						message: malformed,
						fields: { identifier: malformed }
					}
				},
				{ status: 400 }
			);
		}
		if (state === 'limited' || state === 'netLimited') {
			return HttpResponse.json(
				{
					error: {
						code: 'rate_limited',
						message:
							state === 'limited'
								? 'This email or phone number was checked too often. Try again in 2 min.'
								: 'Too many checks from your network. Try again in 2 min.',
						retryAfter: 90,
						limit: state === 'limited' ? 'identifier' : 'network'
					}
				},
				{ status: 429, headers: { 'retry-after': '90' } }
			);
		}
		return HttpResponse.json(reports[state]);
	}),
	http.post('*/api/v1/verifications', () =>
		HttpResponse.json(
			{ expiresAt: '2026-11-26T12:05:00.000Z', resendAfter: '2026-11-26T12:01:00.000Z' },
			{ status: 202 }
		)
	),
	http.post('*/api/v1/verifications/confirm', async ({ request }) => {
		const { code } = (await request.json()) as { code?: string };
		if (code !== '123456') {
			return HttpResponse.json(
				{
					error: {
						code: 'code_invalid',
						message: 'That code is not right. Check the latest message we sent and try again.'
					}
				},
				{ status: 400 }
			);
		}
		return HttpResponse.json(reports.quotaUsedUp);
	}),
	// Rules §7b: the freeze a verified report offers.
	http.post('*/api/v1/verifications/freeze', () => HttpResponse.json({ status: 'frozen' }))
];

export const handlers = [
	...checkHandlers,
	// Rules §7a: the owner's sessions (this one and a phone) and password change. A current password
	// of `wrong` is refused, a new password of `breached password` is found in a breach.
	http.get('*/api/v1/account/sessions', () =>
		HttpResponse.json({
			sessions: [
				{
					id: '3f1c0a9e5b7d4c2a8e6f0b1d2c3a4e5f',
					current: true,
					createdAt: '2026-11-26T11:00:00.000Z',
					lastSeenAt: '2026-11-26T12:00:00.000Z',
					country: 'CN',
					device: 'Chrome on Windows'
				},
				{
					id: '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d',
					current: false,
					createdAt: '2026-11-20T08:00:00.000Z',
					lastSeenAt: '2026-11-25T21:30:00.000Z',
					country: 'DE',
					device: 'Safari on iOS'
				}
			]
		})
	),
	http.delete('*/api/v1/account/sessions/:id', ({ params }) =>
		params.id === '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d' ||
		params.id === '3f1c0a9e5b7d4c2a8e6f0b1d2c3a4e5f'
			? new HttpResponse(null, { status: 204 })
			: HttpResponse.json(
					{
						error: {
							code: 'not_found',
							message: 'No such session of your account. It may have been signed out already.'
						}
					},
					{ status: 404 }
				)
	),
	http.delete('*/api/v1/account/sessions', () => new HttpResponse(null, { status: 204 })),
	http.post('*/api/v1/account/password', async ({ request }) => {
		const { currentPassword, newPassword } = (await request.json()) as Record<string, string>;
		if (currentPassword === 'wrong') {
			const message = 'Your current password is not right.';
			return HttpResponse.json(
				{ error: { code: 'invalid_credentials', message, fields: { currentPassword: message } } },
				{ status: 401 }
			);
		}
		if (newPassword === 'breached password') {
			const message =
				'This password has appeared in a data breach, so attackers may try it. Choose another one.';
			return HttpResponse.json(
				{ error: { code: 'password_breached', message, fields: { newPassword: message } } },
				{ status: 400 }
			);
		}
		return new HttpResponse(null, { status: 204 });
	}),
	...twoStepHandlers
];
