import {
	browserSupportsWebAuthn,
	browserSupportsWebAuthnAutofill,
	startAuthentication,
	startRegistration
} from '@simplewebauthn/browser';

/**
 * The browser half of passkeys (JavaScript only: WebAuthn has no form-post equivalent). The
 * server issues every challenge and verifies every answer; this only carries them.
 */
export { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill };

/** `asked: false`: the server refused before the browser asked the person anything. */
export type PasskeyOutcome =
	{ ok: true } | { ok: false; code: string; message?: string; asked?: false };

async function post(url: string, body: unknown): Promise<Response> {
	return fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
}

async function failed(response: Response): Promise<{ ok: false; code: string; message?: string }> {
	const body = (await response.json().catch(() => null)) as {
		error?: { code: string; message: string };
	} | null;
	return { ok: false, code: body?.error?.code ?? 'error', message: body?.error?.message };
}

/** Signs in with a passkey: the second factor of a pending sign-in, or the first (discoverable). */
export async function signInWithPasskey(autofill = false): Promise<PasskeyOutcome> {
	const options = await post('/api/v1/sessions/passkey/options', {});
	if (!options.ok) return { ...(await failed(options)), asked: false };
	let response;
	try {
		response = await startAuthentication({
			optionsJSON: await options.json(),
			useBrowserAutofill: autofill
		});
	} catch {
		return { ok: false, code: 'passkey_cancelled' };
	}
	const done = await post('/api/v1/sessions/passkey', { response });
	return done.ok ? { ok: true } : failed(done);
}

/** Adds a passkey to the signed-in account (the password again, as for every factor change). */
export async function addPasskey(currentPassword: string, name: string): Promise<PasskeyOutcome> {
	const options = await post('/api/v1/account/two-factor/passkeys/options', { currentPassword });
	if (!options.ok) return failed(options);
	let response;
	try {
		response = await startRegistration({ optionsJSON: await options.json() });
	} catch {
		return { ok: false, code: 'passkey_cancelled' };
	}
	const done = await post('/api/v1/account/two-factor/passkeys', {
		response,
		...(name.trim() ? { name: name.trim() } : {})
	});
	return done.ok ? { ok: true } : failed(done);
}
