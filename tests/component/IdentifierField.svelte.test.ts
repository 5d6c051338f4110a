import { render, screen } from '@testing-library/svelte';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import IdentifierField from '../../src/lib/components/IdentifierField.svelte';

const LABEL = 'Email or phone number';
const taken = { code: 'identifier_taken', message: 'That address is already registered.' };

describe('IdentifierField: the email-or-phone field every form shares', () => {
	it('is an email-or-phone input: username autofill, no capitals or spelling, 320 at most', () => {
		render(IdentifierField, { label: LABEL });
		const field = screen.getByLabelText(LABEL);
		expect(field).toHaveAttribute('name', 'identifier');
		expect(field).toHaveAttribute('inputmode', 'email');
		expect(field).toHaveAttribute('autocomplete', 'username');
		expect(field).toHaveAttribute('autocapitalize', 'none');
		expect(field).toHaveAttribute('spellcheck', 'false');
		expect(field).toHaveAttribute('maxlength', '320');
		expect(field).toBeRequired();
		expect(field).not.toHaveAttribute('aria-invalid');
		expect(field).not.toHaveAttribute('aria-describedby');
	});

	it('its hint and its error are read with it; the error marks it and carries its code', () => {
		render(IdentifierField, { label: LABEL, hint: 'We never show it to anyone.', error: taken });
		const field = screen.getByLabelText(LABEL);
		expect(field).toHaveAttribute('aria-invalid', 'true');
		expect(field).toHaveAccessibleDescription(
			'That address is already registered. We never show it to anyone.'
		);
		expect(document.getElementById('identifier-error')).toHaveAttribute(
			'data-code',
			'identifier_taken'
		);
	});

	it('R15: a rate limit is an error but not an invalid value (invalid={false})', () => {
		const limited = { code: 'rate_limited', message: 'Checked too often.' };
		render(IdentifierField, { label: LABEL, error: limited, invalid: false });
		const field = screen.getByLabelText(LABEL);
		expect(field).not.toHaveAttribute('aria-invalid');
		expect(field).toHaveAccessibleDescription('Checked too often.');
	});

	it('takes its own id, name and autocomplete (a second identifier on the appeal form)', () => {
		render(IdentifierField, {
			id: 'newIdentifier',
			label: 'New email or phone to bind',
			autocomplete: 'email',
			value: 'new@example.com',
			error: { code: 'invalid_request', message: 'Fill in this field.' },
			autofocus: true
		});
		const field = screen.getByLabelText('New email or phone to bind');
		expect(field).toHaveAttribute('name', 'newIdentifier');
		expect(field).toHaveAttribute('autocomplete', 'email');
		expect(field).toHaveValue('new@example.com');
		expect(field).toHaveAccessibleDescription('Fill in this field.');
		expect(field).toHaveFocus();
	});

	it('keeps what is typed', async () => {
		render(IdentifierField, { label: LABEL });
		const field = screen.getByLabelText(LABEL);
		await userEvent.type(field, 'someone@example.com');
		expect(field).toHaveValue('someone@example.com');
	});
});
