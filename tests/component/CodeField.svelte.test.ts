import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import CodeField from '../../src/lib/components/CodeField.svelte';
import PasswordField from '../../src/lib/components/PasswordField.svelte';

describe('CodeField (R6)', () => {
	it('a 6-digit one-time code named "code", its error an alert read with it', () => {
		render(CodeField, {
			label: '6-digit code',
			error: { code: 'code_invalid', message: 'That code is not right.' }
		});
		const field = screen.getByLabelText('6-digit code');
		expect(field).toHaveAttribute('name', 'code');
		expect(field).toHaveAttribute('maxlength', '6');
		expect(field).toHaveAttribute('autocomplete', 'one-time-code');
		expect(field).toHaveAttribute('aria-invalid', 'true');
		expect(field).toHaveAccessibleDescription('That code is not right.');
		expect(screen.getByRole('alert')).toHaveAttribute('data-code', 'code_invalid');
	});

	it("further messages (the tries left) follow the field's own error", () => {
		render(CodeField, {
			label: '6-digit code',
			error: { code: 'code_invalid', message: 'That code is not right.' },
			describedby: 'code-tries'
		});
		expect(screen.getByLabelText('6-digit code')).toHaveAttribute(
			'aria-describedby',
			'code-error code-tries'
		);
	});

	it('a message shown elsewhere: invalid and pointing at it, without an error of its own', () => {
		render(CodeField, {
			id: 'check-code',
			label: 'Code',
			invalid: true,
			describedby: 'check-code-error'
		});
		const field = screen.getByLabelText('Code');
		expect(field).toHaveAttribute('aria-invalid', 'true');
		expect(field).toHaveAttribute('aria-describedby', 'check-code-error');
		expect(screen.queryByRole('alert')).not.toBeInTheDocument();
	});

	it("R19: the appeal's code keeps its own name and room for a space", () => {
		render(CodeField, {
			id: 'newIdentifierCode',
			name: 'newIdentifierCode',
			label: 'Code sent to the new contact',
			maxlength: 12
		});
		const field = screen.getByLabelText('Code sent to the new contact');
		expect(field).toHaveAttribute('name', 'newIdentifierCode');
		expect(field).toHaveAttribute('maxlength', '12');
		expect(field).not.toHaveAttribute('aria-invalid');
	});
});

describe('PasswordField', () => {
	it('R5: a new password says its minimum length and is read with it', () => {
		render(PasswordField, { label: 'New password', minLength: 12 });
		const field = screen.getByLabelText('New password');
		expect(field).toHaveAttribute('type', 'password');
		expect(field).toHaveAttribute('name', 'newPassword');
		expect(field).toHaveAttribute('autocomplete', 'new-password');
		expect(field).toHaveAttribute('minlength', '12');
		expect(field).toHaveAccessibleDescription(/^At least 12 characters\./);
	});

	it('the current password: no hint, no minimum, its error read with it', () => {
		render(PasswordField, {
			id: 'currentPassword',
			label: 'Your current password',
			current: true,
			minLength: 12,
			error: { code: 'password_wrong', message: 'That password is not right.' }
		});
		const field = screen.getByLabelText('Your current password');
		expect(field).toHaveAttribute('autocomplete', 'current-password');
		expect(field).not.toHaveAttribute('minlength');
		expect(field).toHaveAttribute('aria-invalid', 'true');
		expect(field).toHaveAccessibleDescription('That password is not right.');
	});

	it("R19: an appeal's status code is a secret no password manager should offer to fill", () => {
		render(PasswordField, {
			id: 'statusToken',
			label: 'Status code',
			current: true,
			autocomplete: 'off',
			maxlength: 128
		});
		const field = screen.getByLabelText('Status code');
		expect(field).toHaveAttribute('name', 'statusToken');
		expect(field).toHaveAttribute('autocomplete', 'off');
		expect(field).toHaveAttribute('maxlength', '128');
	});
});
