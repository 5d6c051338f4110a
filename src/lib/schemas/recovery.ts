import { z } from 'zod';

/** Rules §8a: a cancel link's token (its shape is judged by the server: malformed is link_invalid). */
export const recoveryCancelLinkInput = z.strictObject({ token: z.string().max(128) });
/** Rules §8a: the signed-in owner stops a recovery with the current password. */
export const recoveryCancelOwnerInput = z.strictObject({ currentPassword: z.string().max(1024) });
