import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/server/config';

describe('configuration', () => {
	it('defaults to an SQLite file under ./data and the standard disclosure mode', () => {
		const config = parseConfig({});
		expect(config.database).toEqual({ kind: 'sqlite', path: './data/app.db' });
		expect(config.checkDisclosure).toBe('standard');
		expect(config.passwordMinLength).toBe(8);
		expect(config.testHooks).toBe(false);
		expect(config.trustProxy).toBe(false);
		// Unset NODE_ENV is production: the dev outbox must never switch itself on by default.
		expect(config.production).toBe(true);
	});

	it.each([
		['postgres://u@127.0.0.1:5432/db', { kind: 'postgres', url: 'postgres://u@127.0.0.1:5432/db' }],
		['postgresql://u@h/db', { kind: 'postgres', url: 'postgresql://u@h/db' }],
		['file:/var/lib/asc.db', { kind: 'sqlite', path: '/var/lib/asc.db' }],
		['./local.db', { kind: 'sqlite', path: './local.db' }]
	])('DATABASE_URL %s selects %j', (url, expected) => {
		expect(parseConfig({ DATABASE_URL: url }).database).toEqual(expected);
	});

	it.each([
		[{ PASSWORD_MIN_LENGTH: '5' }, /PASSWORD_MIN_LENGTH/],
		[{ PASSWORD_MIN_LENGTH: 'eight' }, /PASSWORD_MIN_LENGTH/],
		[{ CHECK_DISCLOSURE: 'loose' }, /CHECK_DISCLOSURE/],
		[{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
		[{ SMTP_URL: 'not a url' }, /SMTP_URL/],
		[{ APP_TEST_HOOKS: 'yes' }, /APP_TEST_HOOKS/],
		[{ INTERNAL_API_TOKEN: 'short' }, /INTERNAL_API_TOKEN/],
		[{ SMS_GATEWAY_URL: 'http://127.0.0.1:9/sms' }, /SMS_GATEWAY_TOKEN/]
	])('refuses %j, naming the variable', (env, name) => {
		expect(() => parseConfig(env)).toThrow(name);
	});

	it('R5: operators may lower the minimum password length to 6, never below', () => {
		expect(parseConfig({ PASSWORD_MIN_LENGTH: '6' }).passwordMinLength).toBe(6);
	});
});
