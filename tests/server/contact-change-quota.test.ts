import { describe, expect, it } from 'vitest';
import { contactChangeQuota } from '../../src/lib/server/contact-change/quota';

const DAY = 86_400_000;
const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0 + ms);

describe('R16 contact-change quota', () => {
	it('R16: no changes: 2 remaining, allowed now', () => {
		expect(contactChangeQuota([], at(0))).toMatchObject({
			used: 0,
			remaining: 2,
			nextAllowedAt: null,
			blockedBy: null
		});
	});

	it('R16: a second change at 6 d 23 h 59 m is refused, at 7 d allowed', () => {
		const early = contactChangeQuota([t0], at(7 * DAY - 60_000));
		expect(early).toMatchObject({
			used: 1,
			remaining: 1,
			blockedBy: 'change_too_soon',
			nextAllowedAt: at(7 * DAY)
		});
		expect(contactChangeQuota([t0], at(7 * DAY))).toMatchObject({
			blockedBy: null,
			nextAllowedAt: null
		});
	});

	it('R16: a third change inside 180 days of the first is refused until first + 180 d, allowed at that instant', () => {
		const changes = [t0, t0 + 30 * DAY];
		const inside = contactChangeQuota(changes, at(100 * DAY));
		expect(inside).toMatchObject({
			used: 2,
			remaining: 0,
			blockedBy: 'change_quota_exhausted',
			nextAllowedAt: at(180 * DAY)
		});
		expect(contactChangeQuota(changes, at(180 * DAY - 1)).blockedBy).toBe('change_quota_exhausted');
		expect(contactChangeQuota(changes, at(180 * DAY))).toMatchObject({
			used: 1,
			remaining: 1,
			blockedBy: null,
			nextAllowedAt: null
		});
	});

	it('R16: both rules: the later of the two dates wins', () => {
		const changes = [t0, t0 + 178 * DAY];
		expect(contactChangeQuota(changes, at(179 * DAY))).toMatchObject({
			nextAllowedAt: at(185 * DAY),
			blockedBy: 'change_quota_exhausted'
		});
	});
});
