import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/lib/server/core/config';
import { countryCodes } from '../../src/lib/server/core/countries';

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
		[{ SMS_GATEWAY_URL: 'http://127.0.0.1:9/sms' }, /SMS_GATEWAY_TOKEN/],
		[{ CHECK_EVENTS_RETENTION_DAYS: '6' }, /CHECK_EVENTS_RETENTION_DAYS/],
		[{ OUTBOX_RETENTION_DAYS: '0' }, /OUTBOX_RETENTION_DAYS/]
	])('refuses %j, naming the variable', (env, name) => {
		expect(() => parseConfig(env)).toThrow(name);
	});

	it('retention: raw check events 30 days, delivered and dead outbox messages 7 days, unless set', () => {
		expect(parseConfig({}).retention).toEqual({ checkEventsDays: 30, outboxDays: 7 });
		// R15: agents see the checks of the last 7 days, so raw events are kept at least that long.
		expect(
			parseConfig({ CHECK_EVENTS_RETENTION_DAYS: '7', OUTBOX_RETENTION_DAYS: '1' }).retention
		).toEqual({ checkEventsDays: 7, outboxDays: 1 });
	});

	it('R24: the recovery hold is 72 hours unless set; an empty value keeps 72 (never 0), odd numerals stop the server', () => {
		const hold = (value?: string) =>
			parseConfig(value === undefined ? {} : { APPEAL_RECOVERY_HOLD_HOURS: value }).appeals
				.recoveryHoldMs / 3_600_000;
		expect(hold()).toBe(72);
		expect(hold('')).toBe(72);
		expect(hold('  ')).toBe(72);
		expect(hold('0')).toBe(0);
		expect(hold('24')).toBe(24);
		expect(hold('720')).toBe(720);
		for (const bad of ['0x48', '1e2', '-1', '721', '2.5', 'three'])
			expect(() => hold(bad), bad).toThrow('APPEAL_RECOVERY_HOLD_HOURS');
	});

	it('R5: operators may lower the minimum password length to 6, never below', () => {
		expect(parseConfig({ PASSWORD_MIN_LENGTH: '6' }).passwordMinLength).toBe(6);
	});
});

describe('R27: webhook configuration', () => {
	const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

	it('off unless WEBHOOK_URL is set; a comma list of endpoints and the secret bytes', () => {
		expect(parseConfig({}).webhooks).toBeUndefined();
		const on = parseConfig({
			WEBHOOK_URL: 'https://hooks.example.com/a, http://127.0.0.1:9000/b',
			WEBHOOK_SECRET: secret
		}).webhooks;
		expect(on?.endpoints).toEqual(['https://hooks.example.com/a', 'http://127.0.0.1:9000/b']);
		expect(on?.secret).toEqual(Buffer.alloc(24, 7));
	});

	it.each([
		[{ WEBHOOK_URL: 'https://hooks.example.com' }, 'WEBHOOK_SECRET: required'],
		[{ WEBHOOK_SECRET: secret }, 'WEBHOOK_SECRET: set without WEBHOOK_URL'],
		[{ WEBHOOK_URL: 'ftp://hooks.example.com', WEBHOOK_SECRET: secret }, 'WEBHOOK_URL'],
		[{ WEBHOOK_URL: 'hooks.example.com', WEBHOOK_SECRET: secret }, 'WEBHOOK_URL'],
		[
			{ NODE_ENV: 'production', WEBHOOK_URL: 'http://hooks.example.com', WEBHOOK_SECRET: secret },
			'WEBHOOK_URL: hooks.example.com must use https'
		],
		[{ WEBHOOK_URL: 'https://h.example', WEBHOOK_SECRET: 'c2VjcmV0' }, 'WEBHOOK_SECRET'],
		[
			{
				WEBHOOK_URL: 'https://h.example',
				WEBHOOK_SECRET: `whsec_${Buffer.alloc(16).toString('base64')}`
			},
			'WEBHOOK_SECRET'
		],
		[{ WEBHOOK_URL: 'https://h.example', WEBHOOK_SECRET: 'whsec_not base64!!' }, 'WEBHOOK_SECRET']
	])('refuses %j, naming the variable', (env, name) => {
		expect(() => parseConfig(env)).toThrow(name);
	});

	it('a refused secret is never echoed in the error', () => {
		const short = `whsec_${Buffer.from('sixteen byte key').toString('base64')}`;
		expect(() => parseConfig({ WEBHOOK_URL: 'https://h.example', WEBHOOK_SECRET: short })).toThrow(
			expect.objectContaining({ message: expect.not.stringContaining(short.slice(6)) })
		);
	});

	it('production allows plain http only to the loopback host', () => {
		expect(
			parseConfig({
				NODE_ENV: 'production',
				WEBHOOK_URL: 'http://127.0.0.1:9000/hooks',
				WEBHOOK_SECRET: secret
			}).webhooks?.endpoints
		).toEqual(['http://127.0.0.1:9000/hooks']);
	});
});

describe('R29 SMS budget configuration', () => {
	it('R29: SMS goes to every picker country unless SMS_ALLOWED_COUNTRIES names some', () => {
		const everywhere = parseConfig({}).sms;
		expect(everywhere.allowedCountries).toEqual(new Set(countryCodes));
		expect(everywhere.dailyBudget).toBe(10_000);
		const some = parseConfig({ SMS_ALLOWED_COUNTRIES: ' cn, GB ,', SMS_DAILY_BUDGET: '50' }).sms;
		expect(some.allowedCountries).toEqual(new Set(['CN', 'GB']));
		expect(some.dailyBudget).toBe(50);
	});

	it('R29: an unknown country code or a budget below 1 stops the server, naming the variable', () => {
		for (const bad of ['CN,XX', 'China', 'UK'])
			expect(() => parseConfig({ SMS_ALLOWED_COUNTRIES: bad }), bad).toThrow(
				'SMS_ALLOWED_COUNTRIES'
			);
		for (const bad of ['0', '-5', '2.5', 'lots'])
			expect(() => parseConfig({ SMS_DAILY_BUDGET: bad }), bad).toThrow('SMS_DAILY_BUDGET');
	});
});
