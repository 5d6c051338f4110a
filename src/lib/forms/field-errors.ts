/**
 * A form error names its fields (`fields`, from src/lib/server/http/forms.ts), and the
 * form marks each one: `aria-invalid`, its message tied by `aria-describedby`, focus on the first.
 */
export interface FieldNamedError {
	code: string;
	message: string;
	field?: string;
	fields?: Record<string, string>;
}

/** Field → message for every field the error is about (none for an error about the whole form). */
export function fieldMessages(error: FieldNamedError | undefined): Record<string, string> {
	if (!error) return {};
	return error.fields ?? (error.field ? { [error.field]: error.message } : {});
}

/** The id of a field's message, for its `aria-describedby`. */
export const errorId = (field: string) => `${field}-error`;

/** After an enhanced submit re-renders the form: focus its first marked field (JavaScript off: autofocus). */
export function focusFirstInvalid(form: HTMLFormElement): void {
	form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
