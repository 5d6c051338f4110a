import { z } from 'zod';

/** R19: the text fields of an appeal; the documents travel beside them as files. */
export const APPEAL_DESCRIPTION_MIN = 10;
export const APPEAL_DESCRIPTION_MAX = 4000;

const identifier = z.string().max(320);
const country = z
	.string()
	.regex(/^[A-Z]{2}$/)
	.optional();

export const appealInput = z.strictObject({
	identifier,
	newIdentifier: identifier,
	newIdentifierCode: z.string().max(32),
	description: z.string().max(APPEAL_DESCRIPTION_MAX * 2),
	country,
	newCountry: country
});
export type AppealInput = z.infer<typeof appealInput>;

export const appealReplyInput = z.strictObject({
	message: z.string().max(APPEAL_DESCRIPTION_MAX).optional()
});

export const appealAccessInput = z.strictObject({
	reference: z.string().trim().max(32),
	statusToken: z.string().trim().max(128)
});

/** R21: a reason the person will read. */
export const decisionReason = z.string().trim().min(5).max(2000);
