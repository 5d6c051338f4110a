import { describe, expect, it } from 'vitest';
import { chooseTimeZone, validTimeZone } from '../../src/lib/format/time-zones';

/** Issue 26: the zone a person's times are shown in, chosen the same way for every page. */
describe('time zone choice', () => {
	const noCountry = () => null;

	it("the browser's zone from the tz cookie comes first, and the network is not even looked up", () => {
		let looked = false;
		const zone = chooseTimeZone('Asia/Shanghai', () => {
			looked = true;
			return 'US';
		});
		expect(zone).toBe('Asia/Shanghai');
		expect(looked).toBe(false);
	});

	it("without a cookie, the network country's main zone (the most populous one for several)", () => {
		expect(chooseTimeZone(undefined, () => 'CN')).toBe('Asia/Shanghai');
		expect(chooseTimeZone(undefined, () => 'US')).toBe('America/New_York');
		expect(chooseTimeZone(undefined, () => 'RU')).toBe('Europe/Moscow');
		expect(chooseTimeZone(undefined, () => 'BR')).toBe('America/Sao_Paulo');
	});

	it('an unknown network or a country without an entry is UTC, which the page names', () => {
		expect(chooseTimeZone(undefined, noCountry)).toBe('UTC');
		expect(chooseTimeZone(undefined, () => 'AQ')).toBe('UTC');
	});

	it('a cookie that is not a real IANA zone is ignored, never passed to Intl', () => {
		for (const bad of [
			'',
			'Mars/Olympus_Mons',
			'Asia/Shanghai; Path=/',
			'<script>',
			'../../etc/passwd',
			'+08:00',
			`Asia/${'x'.repeat(80)}`
		]) {
			expect(validTimeZone(bad)).toBeNull();
			expect(chooseTimeZone(bad, () => 'CN')).toBe('Asia/Shanghai');
		}
	});

	it('real zone names are accepted, aliases a browser may report too', () => {
		for (const zone of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta'])
			expect(validTimeZone(zone)).toBe(zone);
	});
});
