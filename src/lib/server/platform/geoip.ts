import { Reader, type Response } from 'maxmind';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import { canonicalAddress } from './address-key';

/**
 * R9 groundwork: IP address → ISO country code, or null when unknown. Reads both record shapes:
 * ip-location-db's `{country_code}` and MaxMind GeoLite2/GeoIP2's `{country: {iso_code}}`.
 */
export interface GeoIp {
	country(ip: string): string | null;
}

// Private, loopback, link-local, CGNAT, documentation, benchmarking, multicast and other reserved
// ranges: the bundled data maps some of them (e.g. 203.0.113.0/24) to countries, so they are
// answered as unknown before any lookup (R9: such requests are not flagged).
const reserved = new BlockList();
for (const [net, prefix] of [
	['0.0.0.0', 8],
	['10.0.0.0', 8],
	['100.64.0.0', 10],
	['127.0.0.0', 8],
	['169.254.0.0', 16],
	['172.16.0.0', 12],
	['192.0.0.0', 24],
	['192.0.2.0', 24],
	['192.88.99.0', 24],
	['192.168.0.0', 16],
	['198.18.0.0', 15],
	['198.51.100.0', 24],
	['203.0.113.0', 24],
	['224.0.0.0', 4],
	['240.0.0.0', 4]
] as const) {
	reserved.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
	['::', 128],
	['::1', 128],
	['64:ff9b:1::', 48],
	['100::', 64],
	['2001::', 23],
	['2001:db8::', 32],
	['3fff::', 20],
	['fc00::', 7],
	['fe80::', 10],
	['ff00::', 8]
] as const) {
	reserved.addSubnet(net, prefix, 'ipv6');
}

function isReservedIp(ip: string): boolean {
	const family = isIP(ip);
	if (family === 0) return true;
	return reserved.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

type CountryRecord = { country_code?: string; country?: { iso_code?: string } } & Partial<Response>;

function defaultGeoIpPath(): string {
	const require = createRequire(import.meta.url);
	return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/**
 * Opens a MaxMind-format database; operators point GEOIP_DB_PATH at their own, fresher file. A
 * path that cannot be read stops the start-up; the file itself (about 8 MB, held in memory) is
 * read at the first address that is not reserved, so a process that never sees one (tests, the
 * benchmark's loopback load) never holds it (docs/BENCHMARKS.md, peak RSS).
 */
export function openGeoIp(path: string = defaultGeoIpPath()): GeoIp {
	accessSync(path, constants.R_OK);
	let reader: Reader<CountryRecord> | undefined;
	return {
		country(ip: string): string | null {
			const address = canonicalAddress(ip);
			if (address === null || isReservedIp(address)) return null;
			reader ??= new Reader<CountryRecord>(readFileSync(path));
			const record = reader.get(address);
			const code = record?.country_code ?? record?.country?.iso_code;
			return code && /^[A-Z]{2}$/.test(code) ? code : null;
		}
	};
}
