import { z } from 'zod';

/** R12: one field (email or phone), and optionally the country the person means to use. */
export const checkInput = z.strictObject({
	identifier: z.string().max(320),
	country: z
		.string()
		.regex(/^[A-Z]{2}$/, 'Choose a country from the list.')
		.optional()
});

export type CheckInput = z.infer<typeof checkInput>;
