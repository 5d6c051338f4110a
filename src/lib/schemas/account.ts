import { z } from 'zod';

const identifier = z.string().max(320);
const password = z.string().max(1024);
const country = z.string().max(2).optional();

export const contactChangeInput = z.strictObject({
	currentPassword: password,
	newIdentifier: identifier,
	country
});
export const contactChangeConfirmInput = z.strictObject({ code: z.string().max(32) });
export const passwordResetInput = z.strictObject({ identifier, country });
export const passwordResetConfirmInput = z.strictObject({
	identifier,
	code: z.string().max(32),
	newPassword: password,
	country
});
export const passwordChangeInput = z.strictObject({
	currentPassword: password,
	newPassword: password
});
export const secureAccountInput = z.strictObject({ token: z.string().min(1).max(64) });
export const sessionIdInput = z.strictObject({ id: z.string().min(1).max(64) });
/** R6: a resend of the pending contact-change code takes nothing; unknown members are refused. */
export const contactChangeResendInput = z.strictObject({});
/** R28: the owner's copy of their data: the password again, and a second-factor code when on. */
export const accountExportInput = z.strictObject({
	currentPassword: password,
	code: z.string().max(32).optional()
});
/** R28: the owner asks for the account's deletion, with the password again. */
export const accountDeletionInput = z.strictObject({ currentPassword: password });
/** R28: a keep-my-account link's token. */
export const deletionCancelLinkInput = z.strictObject({ token: z.string().max(200) });
