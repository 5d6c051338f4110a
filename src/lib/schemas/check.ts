import { z } from 'zod';
import { m } from '$lib/paraglide/messages';

/** R12: one field (email or phone), and optionally the country the person means to use. */
export const checkInput = z.strictObject({
	identifier: z.string().max(320),
	country: z
		.string()
		.regex(/^[A-Z]{2}$/, { error: () => m.error_country_choice() })
		.optional()
});

export type CheckInput = z.infer<typeof checkInput>;
