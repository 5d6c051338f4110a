import { render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import QuotaMeter from '../../src/lib/components/QuotaMeter.svelte';
import type { ContactChange } from '../../src/lib/types/check-report';

vi.mock('$app/state', () => ({ page: { data: { timeZone: 'UTC' } } }));

const NOW = '2026-11-26T12:00:00.000Z';
const quota = (used: number, nextAllowedAt: string | null = null): ContactChange => ({
	used,
	limit: 2,
	remaining: 2 - used,
	windowDays: 180,
	minIntervalDays: 7,
	nextAllowedAt
});
const meter = () => document.querySelector('[data-code="contact_change_quota"]');

describe('QuotaMeter (R16: 2 changes in 180 days, 7 days apart)', () => {
	it('none used: green, "2 of 2 left", a change is allowed now', () => {
		render(QuotaMeter, { quota: quota(0), now: NOW });
		expect(meter()).toHaveAttribute('data-level', 'ok');
		expect(screen.getByText('2 of 2 left')).toHaveClass('badge-ok');
		expect(screen.getByRole('meter', { name: 'Contact changes' })).toHaveAttribute('max', '2');
		expect(meter()).toHaveTextContent('0 of 2 changes used in the last 180 days; 2 left.');
		expect(meter()).toHaveTextContent('You can change your contact now (at least 7 days apart).');
	});

	it('one used: amber at the last change, with the date the next is allowed', () => {
		render(QuotaMeter, { quota: quota(1, '2026-12-03T12:00:00.000Z'), now: NOW });
		expect(meter()).toHaveAttribute('data-level', 'attention');
		expect(screen.getByText('1 of 2 left')).toHaveClass('badge-attention');
		expect(meter()).toHaveTextContent(/Next change allowed from .*Dec 3, 2026/);
		expect(meter()).not.toHaveTextContent('You can change your contact now');
	});

	it('both used: red, the bar full', () => {
		render(QuotaMeter, { quota: quota(2, '2027-03-01T00:00:00.000Z'), now: NOW });
		expect(meter()).toHaveAttribute('data-level', 'danger');
		expect(screen.getByText('0 of 2 left')).toHaveClass('badge-danger');
		expect(screen.getByRole('meter')).toHaveAttribute('value', '2');
	});

	it('its heading sits at the level the page asks for', () => {
		render(QuotaMeter, { quota: quota(0), now: NOW, level: 3 });
		expect(screen.getByRole('heading', { level: 3, name: 'Contact changes' })).toBeInTheDocument();
	});
});
