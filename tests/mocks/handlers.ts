import { http, HttpResponse } from 'msw';
import { reports } from './reports';

/**
 * The one set of `/api/v1` handlers for UI work without a backend. The typed identifier picks
 * the state, so a developer (or a test) reaches each by typing, e.g. `registered@example.com`.
 */
export const handlers = [
	http.post('*/api/v1/check', async ({ request }) => {
		const body = (await request.json()) as { identifier?: string };
		const identifier = body.identifier ?? '';
		if (!identifier.includes('@') && !identifier.startsWith('+')) {
			const message = 'This email address is not valid. Check for a missing "@", a missing domain such as ".com", spaces or commas.';
			return HttpResponse.json(
				{ error: { code: 'invalid_identifier', message, fields: { identifier: message } } },
				{ status: 400 }
			);
		}
		if (identifier.startsWith('registered')) return HttpResponse.json(reports.registered);
		if (identifier.startsWith('review') || identifier.startsWith('+86')) return HttpResponse.json(reports.underReview);
		if (identifier.startsWith('pending')) return HttpResponse.json(reports.pendingCode);
		return HttpResponse.json(reports.unregistered);
	})
];
