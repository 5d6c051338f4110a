import { http, HttpResponse } from 'msw';
import { reports, type ReportState } from './reports';
import { twoStepHandlers } from './two-step';

/**
 * The one set of `/api/v1` handlers for UI work without a backend (component tests and
 * `npm run dev:mock`). The typed identifier picks the state: `<state>@example.com`, e.g.
 * `underReview@example.com`, `quotaUsedUp@example.com`, `limited@example.com` (429).
 */
const malformed =
	'This email address is not valid. Check for a missing "@", a missing domain such as ".com", spaces or commas.';

function stateOf(identifier: string): ReportState | 'limited' | 'invalid' {
	if (!identifier.includes('@') && !identifier.startsWith('+')) return 'invalid';
	if (identifier.startsWith('+86')) return 'underReview';
	const local = identifier.split('@')[0] ?? '';
	if (local === 'limited') return 'limited';
	return local in reports ? (local as ReportState) : 'unregistered';
}

export const handlers = [
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
		if (state === 'limited') {
			return HttpResponse.json(
				{
					error: {
						code: 'rate_limited',
						message:
							'Too many checks from your network or for this identifier. Try again in 30 seconds.',
						retryAfter: 30
					}
				},
				{ status: 429, headers: { 'retry-after': '30' } }
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
	...twoStepHandlers
];
