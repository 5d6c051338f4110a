import { z } from 'zod';

const password = z.string().max(1024);
const code = z.string().max(32);
const b64url = z.string().max(4096);
const name = z.string().trim().min(1).max(64);

export const totpStartInput = z.strictObject({ currentPassword: password });
export const secondFactorCodeInput = z.strictObject({ code });
export const totpDisableInput = z.strictObject({ currentPassword: password, code });
export const passkeyOptionsInput = z.strictObject({ currentPassword: password });
export const passkeyRenameInput = z.strictObject({ name });
export const passkeyRemoveInput = z.strictObject({ currentPassword: password });

/** A browser's PublicKeyCredential as @simplewebauthn/browser sends it; the server verifies it all. */
const credential = <T extends z.ZodRawShape>(response: T) =>
	z.object({
		id: b64url,
		rawId: b64url,
		type: z.literal('public-key'),
		response: z.object({ clientDataJSON: b64url, ...response }),
		clientExtensionResults: z.object({}).loose(),
		authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional()
	});

const registration = credential({
	attestationObject: b64url,
	transports: z.array(z.string().max(32)).max(10).optional()
});
const authentication = credential({
	authenticatorData: b64url,
	signature: b64url,
	userHandle: b64url.optional()
});

export const passkeyRegisterInput = z.strictObject({
	response: registration,
	name: name.optional()
});
export const passkeySignInInput = z.strictObject({ response: authentication });
