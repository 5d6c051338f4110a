import { describe, expect, it } from 'vitest';
import { parseIdentifier } from '$lib/server/core/identifiers';
import { phone } from '../../scripts/seed/phones';

/** The benchmark checks seeded identifiers; one the app refuses answers 400 and fails the run. */
describe('seeded phone numbers', () => {
	it('replaces a candidate the check refuses (i = 252,599 was +447700436210)', () => {
		expect(parseIdentifier('+447700436210').ok).toBe(false);
		const value = phone(252_599);
		expect(value).not.toBe('+447700436210');
		expect(parseIdentifier(value)).toEqual({ ok: true, identifier: { kind: 'phone', value } });
	});

	it('are accepted by the check and unique, across a 1 M-account seed', () => {
		// Every 11th account of the first million, and old numbers of contact changes beyond it.
		const current = Array.from({ length: 1_000_000 / 11 }, (_, k) => k * 11);
		const old = Array.from({ length: 2_000 }, (_, k) => 5_000_000 + k * 4_999);
		const refused = [...current, ...old].map(phone).filter((value) => {
			const parsed = parseIdentifier(value);
			return !parsed.ok || parsed.identifier.value !== value;
		});
		expect(refused).toEqual([]);
		expect(new Set(current.map(phone)).size).toBe(current.length);
	});
});
