import { z } from 'zod';

const identifier = z.string().max(320);
const country = z.string().max(2);
// Generous bound on the wire; R5's own limits (6–128 characters) are checked with a clear message.
const password = z.string().max(1024);

export const registrationInput = z.strictObject({ identifier, password, country });
export const registrationConfirmInput = z.strictObject({
	identifier,
	code: z.string().max(32),
	country: country.optional()
});
export const resendInput = z.strictObject({ identifier, country: country.optional() });
export const signInInput = z.strictObject({ identifier, password, country: country.optional() });
export const firstOrderInput = z.strictObject({ identifier });
