import { describe, expect, it } from 'vitest';
import { regionName } from '../../src/lib/format/countries';
import { formatInstant } from '../../src/lib/format/time';

/** Dates and countries as people read them, in en and zh-CN. */
describe('words, not data', () => {
	const iso = '2026-12-08T08:56:55.715Z';

	it('a date in the page language, the time zone always named (server render and browser)', () => {
		const en = formatInstant(iso, { locale: 'en', timeZone: 'UTC' });
		expect(en).not.toContain('2026-12-08T');
		expect(en).toMatch(/Dec 8, 2026/);
		expect(en).toMatch(/(UTC|GMT)/);
		const zh = formatInstant(iso, { locale: 'zh-CN', timeZone: 'UTC' });
		expect(zh).toMatch(/2026年12月8日/);
		expect(zh).toMatch(/(UTC|GMT)/);
	});

	it("R14: the person's zone, named, the same text wherever it is rendered", () => {
		// 08:56 UTC is 16:56 in Shanghai (GMT+8, no daylight saving).
		expect(formatInstant(iso, { locale: 'en', timeZone: 'Asia/Shanghai' })).toMatch(
			/Dec 8, 2026.*04:56 PM GMT\+8/
		);
		const zh = formatInstant(iso, { locale: 'zh-CN', timeZone: 'Asia/Shanghai', timeOnly: true });
		expect(zh).toContain('16:56:55');
		expect(zh).toContain('GMT+8');
		expect(formatInstant(iso, { locale: 'en', timeZone: 'America/New_York' })).toMatch(
			/03:56 AM EST$/
		);
	});

	it('the relative part in the language, with full-width parentheses in Chinese', () => {
		const from = Date.parse(iso) - 3 * 86_400_000;
		expect(formatInstant(iso, { locale: 'en', timeZone: 'UTC', relativeTo: from })).toMatch(
			/ \(in 3 days\)$/
		);
		expect(formatInstant(iso, { locale: 'zh-CN', timeZone: 'UTC', relativeTo: from })).toMatch(
			/（3天后）$/
		);
	});

	it('a country by its name in both languages', () => {
		expect(regionName('US', 'en')).toBe('United States');
		expect(regionName('US', 'zh-CN')).toBe('美国');
		expect(regionName('CN', 'zh-CN')).toBe('中国');
	});
});
