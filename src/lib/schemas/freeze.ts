import { z } from 'zod';

const password = z.string().max(1024);

/** Rules §7 (R18): the reset link's confirm; the code form is `passwordResetConfirmInput`. */
export const passwordResetLinkConfirmInput = z.strictObject({
	token: z.string().max(200),
	newPassword: password
});
/** §7b: the signed-in owner's freeze, with the current password again. */
export const accountFreezeInput = z.strictObject({ currentPassword: password });
/** §7b: a freeze by whoever proved control of a bound contact in this browser (R15a's grant). */
export const verificationFreezeInput = z.strictObject({
	identifier: z.string().max(320),
	country: z.string().max(2).optional()
});
