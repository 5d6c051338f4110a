import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import RecoveryCodes from '../../src/lib/components/RecoveryCodes.svelte';

const CODES = ['abcde-fghij', 'klmno-pqrst', 'uvwxy-z2345'];

describe('§7a RecoveryCodes', () => {
	it('lists the codes and offers them as recovery-codes.txt in a data: link', () => {
		render(RecoveryCodes, { codes: CODES });
		expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(CODES);
		const link = screen.getByRole('link', { name: 'Download (.txt)' });
		expect(link).toHaveAttribute('download', 'recovery-codes.txt');
		const href = link.getAttribute('href')!;
		expect(href.startsWith('data:text/plain;charset=utf-8,')).toBe(true);
		const text = decodeURIComponent(href.slice(href.indexOf(',') + 1));
		expect(text.trimEnd().split('\n').slice(-3)).toEqual(CODES);
	});

	it('copies the codes one a line and says so', async () => {
		const writeText = vi.fn().mockResolvedValue(undefined);
		const user = userEvent.setup();
		Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
		render(RecoveryCodes, { codes: CODES });
		await user.click(await screen.findByRole('button', { name: 'Copy' }));
		expect(writeText).toHaveBeenCalledWith(CODES.join('\n'));
		expect(await screen.findByText('Copied.')).toBeInTheDocument();
	});

	it('prints with the browser’s print dialog', async () => {
		const print = vi.spyOn(window, 'print').mockImplementation(() => {});
		render(RecoveryCodes, { codes: CODES });
		await userEvent.setup().click(await screen.findByRole('button', { name: 'Print' }));
		expect(print).toHaveBeenCalledOnce();
	});
});
