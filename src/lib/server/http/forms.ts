import { fail, type ActionFailure } from '@sveltejs/kit';
import type { z } from 'zod';
import { m } from '$lib/paraglide/messages';
import { failure, type Failure } from '../core/failures';
import type { ApiError } from '$lib/types/check-report';
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
	/** R15: which of the check's limits refused it (the JSON API's `error.limit`). */
	limit?: ApiError['limit'];
	/** R29: what to use instead (`email` when the day's SMS budget is spent). */
	alternative?: 'email';
}

/** A failure a form answers with: a service's, or `parseForm`'s with every field it refused. */
export type FormFailure = Failure & { fields?: Record<string, string> };

/** A failure as the `error` member of a form answer (the JSON API's error body, docs/api.md). */
export function formError(f: FormFailure): FormError {
	const error: FormError = { code: f.code, message: f.message };
	if (f.field) error.field = f.field;
	const fields = failureFields(f);
	if (fields) error.fields = fields;
	if (f.retryAfterSeconds) error.retryAfterSeconds = f.retryAfterSeconds;
	if (typeof f.extra?.attemptsLeft === 'number') error.attemptsLeft = f.extra.attemptsLeft;
	if (typeof f.extra?.nextAllowedAt === 'string') error.nextAllowedAt = f.extra.nextAllowedAt;
	if (f.extra?.limit === 'network' || f.extra?.limit === 'identifier') error.limit = f.extra.limit;
	if (f.extra?.alternative === 'email') error.alternative = 'email';
	return error;
}

/** A failure as a form action answer; `echo` refills the form (never passwords). */
export function failForm<E extends Record<string, unknown>>(
	f: FormFailure,
	echo: E
): ActionFailure<E & { error: FormError }> {
	return fail(f.status, { ...echo, error: formError(f) });
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

/**
 * The form's values through its schema: the data, or a 400 `invalid_request` naming every field
 * it refused, ready for `failForm(parsed.failure, echo)`.
 */
export function parseForm<T>(
	schema: z.ZodType<T>,
	values: Record<string, string | undefined>
): { ok: true; data: T } | { ok: false; failure: FormFailure } {
	const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
	const result = schema.safeParse(defined);
	if (result.success) return { ok: true, data: result.data };
	const issue = result.error.issues[0];
	const field = issue ? issueField(issue) : '';
	const refused = failure(
		400,
		'invalid_request',
		m.error_invalid_request(),
		field ? { field } : {}
	);
	return {
		ok: false,
		failure: field ? { ...refused, fields: fieldErrors(result.error) } : refused
	};
}
