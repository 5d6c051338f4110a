import { fail, type ActionFailure } from '@sveltejs/kit';
import type { z } from 'zod';
import { m } from '$lib/paraglide/messages';
import type { Failure } from '../core/failures';
import { failureFields, fieldErrors, issueField } from './api-error';

export interface FormError {
	code: string;
	message: string;
	/** The first field the error is about (kept for the forms that read it). */
	field?: string;
	/** Every field the error is about, field → message, so a form marks each one. */
	fields?: Record<string, string>;
	retryAfterSeconds?: number;
	/** R6: tries the code has left after a wrong one. */
	attemptsLeft?: number;
	/** R16: when the next change is allowed. */
	nextAllowedAt?: string;
}

/** A service failure as a form action answer; `echo` refills the form (never passwords). */
export function failForm<E extends Record<string, unknown>>(
	f: Failure & { fields?: Record<string, string> },
	echo: E
): ActionFailure<E & { error: FormError }> {
	const error: FormError = { code: f.code, message: f.message };
	if (f.field) error.field = f.field;
	const fields = failureFields(f);
	if (fields) error.fields = fields;
	if (f.retryAfterSeconds) error.retryAfterSeconds = f.retryAfterSeconds;
	if (typeof f.extra?.attemptsLeft === 'number') error.attemptsLeft = f.extra.attemptsLeft;
	if (typeof f.extra?.nextAllowedAt === 'string') error.nextAllowedAt = f.extra.nextAllowedAt;
	return fail(f.status, { ...echo, error });
}

/** Reads the named text fields of a form post; files and repeated fields are refused by the schema. */
export async function readForm(
	request: Request,
	names: string[]
): Promise<Record<string, string | undefined>> {
	const form = await request.formData();
	const values: Record<string, string | undefined> = {};
	for (const name of names) {
		const all = form.getAll(name);
		// A field sent twice is ambiguous: keep neither, so the schema refuses it as missing.
		const value = all.length === 1 && typeof all[0] === 'string' ? all[0] : undefined;
		values[name] = value === '' ? undefined : value;
	}
	return values;
}

export function parseForm<T>(
	schema: z.ZodType<T>,
	values: Record<string, string | undefined>
): { ok: true; data: T } | { ok: false; error: FormError } {
	const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
	const result = schema.safeParse(defined);
	if (result.success) return { ok: true, data: result.data };
	const issue = result.error.issues[0];
	const field = issue ? issueField(issue) : '';
	return {
		ok: false,
		error: {
			code: 'invalid_request',
			message: m.error_invalid_request(),
			...(field ? { field, fields: fieldErrors(result.error) } : {})
		}
	};
}
