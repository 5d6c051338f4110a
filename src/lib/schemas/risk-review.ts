import { z } from 'zod';

/** R9: why an agent cleared or confirmed a risk review; kept in the audit log (R22). */
export const reviewReason = z.string().trim().min(5).max(1000);

export const accountLookup = z.strictObject({ identifier: z.string().max(320).default('') });
