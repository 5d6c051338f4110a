/**
 * A form error names its fields (`fields`, from src/lib/server/http/forms.ts), and the
 * form marks each one: `aria-invalid`, its message tied by `aria-describedby`, focus on the first.
 * Every field shows its message through FieldError.svelte, so they all look and read the same.
 */
export interface FieldNamedError {
	code: string;
	message: string;
	field?: string;
	fields?: Record<string, string>;
}

/** What one field shows: its own message, with the code of the error it came from. */
export interface FieldErrorMessage {
	code?: string;
	message: string;
}

/** Field → message for every field the error is about (none for an error about the whole form). */
export function fieldMessages(error: FieldNamedError | undefined): Record<string, string> {
	if (!error) return {};
	return error.fields ?? (error.field ? { [error.field]: error.message } : {});
}

/** The one field's share of a form error, or undefined when the error is not about it. */
export function fieldError(
	error: FieldNamedError | undefined,
	field: string
): FieldErrorMessage | undefined {
	const message = fieldMessages(error)[field];
	return error && message !== undefined ? { code: error.code, message } : undefined;
}

/** The id of a field's message, for its `aria-describedby`. */
export const errorId = (field: string) => `${field}-error`;

/** An `aria-describedby` from the ids that apply (undefined when none does). */
export function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
	return ids.filter(Boolean).join(' ') || undefined;
}

/** After an enhanced submit re-renders the form: focus its first marked field (JavaScript off: autofocus). */
export function focusFirstInvalid(form: HTMLFormElement): void {
	form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
