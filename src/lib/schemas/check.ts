import { z } from 'zod';
import { m } from '$lib/paraglide/messages';

const country = z
	.string()
	.regex(/^[A-Z]{2}$/, { error: () => m.error_country_choice() })
	.optional();

/** R12: one field (email or phone), and optionally the country the person means to use. */
export const checkInput = z.strictObject({ identifier: z.string().max(320), country });

export type CheckInput = z.infer<typeof checkInput>;

export const verificationInput = z.strictObject({
	identifier: z.string().max(320),
	purpose: z.enum(['check', 'appeal']),
	country
});

export const verificationConfirmInput = z.strictObject({
	identifier: z.string().max(320),
	purpose: z.literal('check'),
	code: z.string().max(32),
	country
});
