import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveClientAddress } from '../../src/lib/server/platform/client-address';
import { openGeoIp } from '../../src/lib/server/platform/geoip';

const geoip = openGeoIp();

describe('R9 IP country', () => {
	it.each([
		['8.8.8.8', 'US'],
		['1.0.1.1', 'CN'],
		['::ffff:8.8.8.8', 'US'],
		['2001:4860:4860::8888', 'US']
	])('%s is in %s', (ip, country) => {
		expect(geoip.country(ip)).toBe(country);
	});

	it.each([
		'127.0.0.1',
		'10.1.2.3',
		'192.168.1.1',
		'172.20.0.1',
		'100.64.0.1',
		'203.0.113.7',
		'198.51.100.1',
		'192.0.2.1',
		'::1',
		'fd00::1',
		'fe80::1',
		'2001:db8::1',
		'not-an-ip',
		''
	])('R9: %j is unknown (never flagged)', (ip) => {
		expect(geoip.country(ip)).toBeNull();
	});

	// Peak RSS (docs/BENCHMARKS.md): the ~8 MB file is read at the first public address.
	it('R9: reads the database at the first public address; a missing file stops the start', () => {
		const dir = mkdtempSync(join(tmpdir(), 'asc-geoip-'));
		const notADatabase = join(dir, 'empty.mmdb');
		writeFileSync(notADatabase, '');
		const lazy = openGeoIp(notADatabase);
		expect(lazy.country('127.0.0.1')).toBeNull();
		expect(() => lazy.country('8.8.8.8')).toThrow();
		expect(() => openGeoIp(join(dir, 'missing.mmdb'))).toThrow(/ENOENT/);
	});
});

describe('client address', () => {
	const headers = new Headers({ 'x-forwarded-for': '6.6.6.6, 8.8.8.8' });

	it('ignores X-Forwarded-For unless a proxy is trusted', () => {
		expect(resolveClientAddress(headers, () => '127.0.0.1', false)).toBe('127.0.0.1');
	});

	it('with TRUST_PROXY takes the entry our proxy appended, not one the client wrote', () => {
		expect(resolveClientAddress(headers, () => '127.0.0.1', true)).toBe('8.8.8.8');
	});

	it('falls back to the socket when the header is garbage', () => {
		expect(
			resolveClientAddress(
				new Headers({ 'x-forwarded-for': 'evil' }),
				() => '::ffff:10.0.0.1',
				true
			)
		).toBe('10.0.0.1');
	});
});
