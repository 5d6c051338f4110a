import { expect, test } from './fixtures';

const pages = [
	'/',
	'/register',
	'/login',
	'/forgot-password',
	'/account',
	'/account/contact',
	'/appeal'
];
const formPosts: [string, Record<string, string>][] = [
	['/?/check', { identifier: 'a@example.com' }],
	[
		'/register?/start',
		{ identifier: 'a@example.com', password: 'a long and quiet river', country: 'CN' }
	],
	['/login', { identifier: 'a@example.com', password: 'x' }],
	['/forgot-password?/request', { identifier: 'a@example.com' }],
	['/locale', { locale: 'en' }]
];

test.describe('headers and cross-site requests', () => {
	for (const path of pages) {
		test(`security headers and a nonce-based CSP on ${path}`, async ({ request }) => {
			const res = await request.get(path, { maxRedirects: 0 });
			const headers = res.headers();
			expect(headers['x-content-type-options']).toBe('nosniff');
			expect(headers['referrer-policy']).toBe('same-origin');
			expect(headers['x-frame-options']).toBe('DENY');
			expect(headers['x-request-id']).toMatch(/^[\w.-]+$/);
			expect(headers['cache-control']).toBe('no-store');
			if (res.status() === 200) {
				const csp = headers['content-security-policy'] ?? '';
				expect(csp).toMatch(/script-src 'self' 'nonce-[^']+'/);
				expect(/script-src[^;]*unsafe-inline/.test(csp)).toBe(false);
				for (const directive of ["frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"])
					expect(csp).toContain(directive);
			}
		});
	}

	for (const [path, form] of formPosts) {
		test(`a cross-site form post to ${path} is refused`, async ({ request }) => {
			const res = await request.post(path, {
				form,
				headers: { origin: 'https://evil.example' },
				maxRedirects: 0
			});
			expect(res.status()).toBe(403);
		});
	}

	test('JSON sent as text/plain (the CSRF-able kind) is refused by every API endpoint', async ({
		request
	}) => {
		for (const path of [
			'/api/v1/check',
			'/api/v1/registrations',
			'/api/v1/sessions',
			'/api/v1/password-resets',
			'/api/v1/verifications'
		]) {
			const res = await request.post(path, {
				data: '{"identifier":"a@example.com"}',
				headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }
			});
			expect([403, 415]).toContain(res.status());
		}
	});
});
