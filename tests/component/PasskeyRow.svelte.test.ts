import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import PasskeyRow from '../../src/lib/components/PasskeyRow.svelte';

vi.mock('$app/state', () => ({ page: { data: { timeZone: 'UTC' } } }));

const passkey = (lastUsedAt: string | null = null) => ({
	id: 'pk-1',
	name: 'Laptop',
	createdAt: '2026-11-01T09:00:00.000Z',
	lastUsedAt
});
const row = () => screen.getByRole('listitem');

function renderRow(props: Partial<Parameters<typeof PasskeyRow>[1]> = {}) {
	const list = document.createElement('ul');
	document.body.append(list);
	return render(PasskeyRow, {
		target: list,
		props: { passkey: passkey(), index: 0, askPassword: true, ...props }
	});
}

describe('PasskeyRow (§7a: one passkey on the two-step page)', () => {
	it('names the passkey, when it was added, and "Never used" before its first use', () => {
		renderRow();
		expect(row()).toHaveAttribute('data-passkey', 'Laptop');
		expect(within(row()).getByText('Never used')).toBeInTheDocument();
		expect(within(row()).getByText(/Nov 1, 2026/)).toBeInTheDocument();
	});

	it('shows when it was last used', () => {
		renderRow({ passkey: passkey('2026-11-20T10:00:00.000Z') });
		expect(within(row()).queryByText('Never used')).not.toBeInTheDocument();
		expect(within(row()).getByText(/Nov 20, 2026/)).toBeInTheDocument();
	});

	it('rename and remove each post this passkey; removal asks the password and "I confirm"', () => {
		renderRow({ index: 2 });
		expect(screen.getByLabelText('Name of passkey Laptop')).toHaveValue('Laptop');
		expect(screen.getByLabelText('Name of passkey Laptop')).toHaveAttribute('id', 'rename-2');
		const password = screen.getByLabelText('Current password to remove Laptop');
		expect(password).toHaveAttribute('id', 'remove-2');
		expect(password).toHaveAttribute('type', 'password');
		const confirm = screen.getByRole('checkbox', { name: /I confirm: remove Laptop/ });
		expect(confirm).toHaveAttribute('id', 'remove-confirm-2');
		expect(confirm).not.toBeChecked();
		for (const form of document.querySelectorAll('form')) {
			expect(form.querySelector('input[name="id"]')).toHaveValue('pk-1');
		}
		expect(screen.getByRole('button', { name: 'Remove' })).toHaveClass('btn-danger');
	});

	it('inside the re-authentication window the password is not asked again', () => {
		renderRow({ askPassword: false });
		expect(screen.queryByLabelText('Current password to remove Laptop')).not.toBeInTheDocument();
		expect(screen.getByRole('checkbox', { name: /I confirm/ })).toBeInTheDocument();
	});

	it('removal sent without the tick: the box is marked and says why', () => {
		renderRow({
			error: { code: 'confirm_required', message: 'Tick the box to confirm.', field: 'confirm' }
		});
		const confirm = screen.getByRole('checkbox', { name: /I confirm/ });
		expect(confirm).toHaveAttribute('aria-invalid', 'true');
		expect(confirm).toHaveAccessibleDescription('Tick the box to confirm.');
		expect(document.getElementById('remove-confirm-0-error')).toHaveAttribute(
			'data-code',
			'confirm_required'
		);
	});

	it('any other error about this passkey shows under its form, the box unmarked', () => {
		renderRow({ error: { code: 'password_wrong', message: 'That password is not right.' } });
		expect(screen.getByRole('alert')).toHaveTextContent('That password is not right.');
		expect(screen.getByRole('alert')).toHaveAttribute('data-code', 'password_wrong');
		expect(screen.getByRole('checkbox', { name: /I confirm/ })).not.toHaveAttribute('aria-invalid');
	});
});
