import { http, HttpResponse } from 'msw';

/**
 * Two-step verification (docs/api.md) for component tests (not `npm run dev:mock`: /login signs in
 * through a form action, which a service worker never sees). States by what is typed:
 * `twoStep@example.com` signs in to the second step (TOTP, recovery code, passkey),
 * `passkeyOnly@example.com` to a passkey-only second step, any other identifier straight in;
 * the password `wrong password` is refused; the code `123456` (or `abcde-fghij`) passes.
 */
const invalidCode = () =>
	HttpResponse.json(
		{ error: { code: 'code_invalid', message: 'That code is not right.', fields: { code: '…' } } },
		{ status: 400 }
	);
const signedIn = () => HttpResponse.json({ account: { status: 'active' } }, { status: 201 });
const challenge = 'bW9jay1jaGFsbGVuZ2UtMDEyMzQ1Njc4OQ';
const passkey = {
	id: 'bW9jay1wYXNza2V5',
	name: 'Laptop',
	createdAt: '2026-11-26T12:00:00.000Z',
	lastUsedAt: null
};

export const twoStepHandlers = [
	http.post('*/api/v1/sessions', async ({ request }) => {
		const { identifier = '', password = '' } = (await request.json()) as Record<string, string>;
		if (password === 'wrong password')
			return HttpResponse.json(
				{
					error: {
						code: 'invalid_credentials',
						message: 'The email or phone number and password do not match.'
					}
				},
				{ status: 401 }
			);
		const local = identifier.split('@')[0];
		if (local === 'twoStep')
			return HttpResponse.json(
				{ secondFactor: { methods: ['totp', 'recovery_code', 'passkey'] } },
				{ status: 202 }
			);
		if (local === 'passkeyOnly')
			return HttpResponse.json({ secondFactor: { methods: ['passkey'] } }, { status: 202 });
		return signedIn();
	}),
	http.post('*/api/v1/sessions/second-factor', async ({ request }) => {
		const { code } = (await request.json()) as { code?: string };
		return code === '123456' || code === 'abcde-fghij' ? signedIn() : invalidCode();
	}),
	http.post('*/api/v1/sessions/passkey/options', () =>
		HttpResponse.json({
			challenge,
			rpId: 'localhost',
			allowCredentials: [],
			userVerification: 'required',
			timeout: 60000
		})
	),
	http.post('*/api/v1/sessions/passkey', signedIn),
	http.post('*/api/v1/account/two-factor/totp', () =>
		HttpResponse.json({
			secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
			otpauthUri:
				'otpauth://totp/Account%20Security%20Check:m***k%40e***.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Account%20Security%20Check&algorithm=SHA1&digits=6&period=30'
		})
	),
	http.post('*/api/v1/account/two-factor/totp/confirm', async ({ request }) => {
		const { code } = (await request.json()) as { code?: string };
		if (code !== '123456') return invalidCode();
		return HttpResponse.json(
			{ recoveryCodes: Array.from({ length: 10 }, (_, i) => `abcd${i}-efgh${i}`) },
			{ status: 201 }
		);
	}),
	http.delete('*/api/v1/account/two-factor/totp', () => new HttpResponse(null, { status: 204 })),
	http.get('*/api/v1/account/two-factor/passkeys', () =>
		HttpResponse.json({ passkeys: [passkey] })
	),
	http.post('*/api/v1/account/two-factor/passkeys/options', () =>
		HttpResponse.json({
			challenge,
			rp: { name: 'Account Security Check', id: 'localhost' },
			user: { id: 'bW9jay11c2Vy', name: 'm***k@e***.com', displayName: 'm***k@e***.com' },
			pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
			timeout: 60000,
			attestation: 'none',
			excludeCredentials: [],
			authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }
		})
	),
	http.post('*/api/v1/account/two-factor/passkeys', () =>
		HttpResponse.json({ passkey }, { status: 201 })
	),
	http.patch('*/api/v1/account/two-factor/passkeys/:id', async ({ request, params }) => {
		const { name } = (await request.json()) as { name?: string };
		return HttpResponse.json({ passkey: { id: params.id, name } });
	}),
	http.delete(
		'*/api/v1/account/two-factor/passkeys/:id',
		() => new HttpResponse(null, { status: 204 })
	)
];
