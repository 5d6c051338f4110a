import { z } from 'zod';
import { countryCodes } from './countries';

/**
 * Every environment variable the server reads, parsed once at start-up. A bad value stops the
 * server with a message naming the variable, instead of failing later on a request.
 */
const flag = z
	.enum(['0', '1', 'true', 'false', ''])
	.default('0')
	.transform((v) => v === '1' || v === 'true');

const optionalUrl = z
	.string()
	.trim()
	.transform((v) => (v === '' ? undefined : v))
	.pipe(z.url().optional())
	.optional();

const optionalRedisUrl = z
	.string()
	.trim()
	.transform((v) => (v === '' ? undefined : v))
	.pipe(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional())
	.optional();

const envSchema = z.object({
	// Unset means production: the safe default for `node build` (Vite sets it in dev and tests).
	NODE_ENV: z.string().default('production'),
	DATABASE_URL: z.string().trim().min(1).default('file:./data/app.db'),
	ORIGIN: optionalUrl,
	TRUST_PROXY: flag,
	SMTP_URL: optionalUrl,
	SMTP_FROM: z.string().default('Account Security Check <no-reply@localhost>'),
	SMS_GATEWAY_URL: optionalUrl,
	SMS_GATEWAY_TOKEN: z.string().optional(),
	// R29: the countries SMS codes go to (ISO 3166-1 alpha-2, comma-separated); unset or empty means
	// every country of the country picker (the marketplace serves them all, R2).
	SMS_ALLOWED_COUNTRIES: z.string().default(''),
	// R29: SMS sent in one UTC day across every instance; then codes go by email only.
	SMS_DAILY_BUDGET: z.coerce.number().int().min(1).default(10_000),
	// R15a: how much of the check report is public before proof of control.
	CHECK_DISCLOSURE: z.enum(['standard', 'open', 'strict']).default('standard'),
	// R5: 8 by default (ASVS 5.0 §6.2.1); the marketplace's documented floor is 6, never below.
	PASSWORD_MIN_LENGTH: z.coerce.number().int().min(6).max(128).default(8),
	// R5: the Pwned Passwords range API (https://api.pwnedpasswords.com in production); off unset.
	PWNED_PASSWORDS_URL: optionalUrl,
	PWNED_PASSWORDS_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(1500),
	// R15: check limits per client address and per identifier, in one window.
	CHECK_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(60),
	CHECK_RATE_LIMIT_PER_IDENTIFIER: z.coerce.number().int().min(1).default(10),
	CHECK_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(600),
	// docs/rules.md §9: rate-limit counters in Redis instead of the database when set.
	REDIS_URL: optionalRedisUrl,
	GEOIP_DB_PATH: z.string().optional(),
	INTERNAL_API_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
	APP_TEST_HOOKS: flag,
	// The key ring (kid:base64 entries, newest first, or a file path); see core/keys.ts. Required in
	// production; development and tests make a local one under ./data/.
	APP_SECRET_KEYS: z.string().optional(),
	// Prometheus metrics at /metrics need this bearer token; closed without it.
	METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
	// Bare endpoints for `npm run bench` (the framework's ceiling); never needed otherwise.
	BENCH_ROUTES: flag,
	// R19: where versions before the encrypted document store kept documents as files; what is
	// found there is moved into the database at start-up (document-store.ts).
	APPEAL_STORAGE_DIR: z.string().trim().min(1).default('./data/appeal-documents'),
	APPEAL_DOCUMENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
	// R21: a second agent must confirm a rebind before it takes effect.
	APPEAL_REQUIRE_SECOND_APPROVAL: flag,
	// Recovery hold: an approved appeal rebinds only this many hours later; 0 rebinds at once.
	// Written out in whole hours only: an empty value (a deployment template's unset `${VAR}`) means
	// the default, never 0 (which would switch the hold off), and `0x48` or `1e2` are refused.
	APPEAL_RECOVERY_HOLD_HOURS: z
		.string()
		.trim()
		.default('')
		.refine((v) => /^\d{0,3}$/.test(v), 'must be a whole number of hours, 0 to 720')
		.transform((v) => (v === '' ? 72 : Number(v)))
		.pipe(z.number().max(720, 'must be a whole number of hours, 0 to 720')),
	// Retention (retention.ts, docs/DATA.md). Raw check events, then per-hour counts only; at least
	// 7 days, because agents see the checks of the last 7 days against an account (R15).
	CHECK_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(7).max(3650).default(30),
	// Delivered and dead outbox messages; pending ones stay until delivered or dead (R7).
	OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
	// R27: outbound webhooks; checked in parseWebhooks (the secret is never echoed).
	WEBHOOK_URL: z.string().trim().optional(),
	WEBHOOK_SECRET: z.string().trim().optional()
});

export type Config = {
	production: boolean;
	database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
	origin: string | undefined;
	trustProxy: boolean;
	smtpUrl: string | undefined;
	smtpFrom: string;
	smsGateway: { url: string; token: string | undefined } | undefined;
	/** R29: where SMS codes may go, and how many go in one UTC day over all instances. */
	sms: { allowedCountries: ReadonlySet<string>; dailyBudget: number };
	checkDisclosure: 'standard' | 'open' | 'strict';
	checkRateLimit: { perIp: number; perIdentifier: number; windowMs: number };
	redisUrl: string | undefined;
	passwordMinLength: number;
	pwnedPasswords: { url: string; timeoutMs: number } | undefined;
	geoipDbPath: string | undefined;
	internalApiToken: string | undefined;
	testHooks: boolean;
	secretKeys: string | undefined;
	metricsToken: string | undefined;
	benchRoutes: boolean;
	appeals: {
		storageDir: string;
		retentionDays: number;
		requireSecondApproval: boolean;
		/** Milliseconds between an approval and its rebind (APPEAL_RECOVERY_HOLD_HOURS). */
		recoveryHoldMs: number;
	};
	retention: { checkEventsDays: number; outboxDays: number };
	/** R27: where audited events are POSTed, signed with `secret` (Standard Webhooks); undefined: off. */
	webhooks: { endpoints: string[]; secret: Buffer } | undefined;
};

export class ConfigError extends Error {
	override name = 'ConfigError';
}

/** R29: SMS_ALLOWED_COUNTRIES as a set of the picker's country codes; empty means all of them. */
function parseSmsCountries(value: string): ReadonlySet<string> {
	const codes = value
		.split(',')
		.map((code) => code.trim().toUpperCase())
		.filter((code) => code !== '');
	if (codes.length === 0) return new Set(countryCodes);
	const unknown = codes.filter((code) => !countryCodes.includes(code));
	if (unknown.length > 0) {
		throw new ConfigError(
			`SMS_ALLOWED_COUNTRIES: unknown country code ${unknown.map((code) => `"${code}"`).join(', ')} (use ISO 3166-1 alpha-2 codes, comma-separated)`
		);
	}
	return new Set(codes);
}

/** docs/rules.md §9: `file:PATH` or a plain path is SQLite; `postgres://` / `postgresql://` is PostgreSQL. */
export function parseDatabaseUrl(value: string): Config['database'] {
	if (/^postgres(ql)?:\/\//i.test(value)) return { kind: 'postgres', url: value };
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
		throw new ConfigError(
			`DATABASE_URL: unsupported scheme in "${value.split(':')[0]}:" (use file:PATH or postgres://)`
		);
	}
	const path = value.startsWith('file:') ? value.slice('file:'.length) : value;
	if (path === '') throw new ConfigError('DATABASE_URL: file: needs a path');
	return { kind: 'sqlite', path };
}

export function parseConfig(env: Record<string, string | undefined>): Config {
	const result = envSchema.safeParse(env);
	if (!result.success) {
		const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
		throw new ConfigError(`Invalid configuration — ${problems.join('; ')}`);
	}
	const e = result.data;
	const production = e.NODE_ENV === 'production';
	if (e.SMS_GATEWAY_URL && !e.SMS_GATEWAY_TOKEN) {
		throw new ConfigError('SMS_GATEWAY_TOKEN: required when SMS_GATEWAY_URL is set');
	}
	return {
		production,
		database: parseDatabaseUrl(e.DATABASE_URL),
		origin: e.ORIGIN,
		trustProxy: e.TRUST_PROXY,
		smtpUrl: e.SMTP_URL,
		smtpFrom: e.SMTP_FROM,
		smsGateway: e.SMS_GATEWAY_URL
			? { url: e.SMS_GATEWAY_URL, token: e.SMS_GATEWAY_TOKEN }
			: undefined,
		sms: {
			allowedCountries: parseSmsCountries(e.SMS_ALLOWED_COUNTRIES),
			dailyBudget: e.SMS_DAILY_BUDGET
		},
		checkDisclosure: e.CHECK_DISCLOSURE,
		checkRateLimit: {
			perIp: e.CHECK_RATE_LIMIT_PER_IP,
			perIdentifier: e.CHECK_RATE_LIMIT_PER_IDENTIFIER,
			windowMs: e.CHECK_RATE_LIMIT_WINDOW_SECONDS * 1000
		},
		redisUrl: e.REDIS_URL,
		passwordMinLength: e.PASSWORD_MIN_LENGTH,
		pwnedPasswords: e.PWNED_PASSWORDS_URL
			? { url: e.PWNED_PASSWORDS_URL.replace(/\/+$/, ''), timeoutMs: e.PWNED_PASSWORDS_TIMEOUT_MS }
			: undefined,
		geoipDbPath: e.GEOIP_DB_PATH,
		internalApiToken: e.INTERNAL_API_TOKEN,
		testHooks: e.APP_TEST_HOOKS,
		secretKeys: e.APP_SECRET_KEYS,
		metricsToken: e.METRICS_TOKEN,
		benchRoutes: e.BENCH_ROUTES,
		appeals: {
			storageDir: e.APPEAL_STORAGE_DIR,
			retentionDays: e.APPEAL_DOCUMENT_RETENTION_DAYS,
			requireSecondApproval: e.APPEAL_REQUIRE_SECOND_APPROVAL,
			recoveryHoldMs: e.APPEAL_RECOVERY_HOLD_HOURS * 3_600_000
		},
		retention: {
			checkEventsDays: e.CHECK_EVENTS_RETENTION_DAYS,
			outboxDays: e.OUTBOX_RETENTION_DAYS
		},
		webhooks: parseWebhooks(e.WEBHOOK_URL, e.WEBHOOK_SECRET, production)
	};
}

/** Loopback receivers may use plain http in production (a sidecar on the same host). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * R27: WEBHOOK_URL is one or more http(s) URLs, comma-separated (https in production, except on
 * loopback); WEBHOOK_SECRET is required with it, in the Standard Webhooks form `whsec_` + base64
 * of at least 24 random bytes. Errors name the variable, never the secret's value.
 */
function parseWebhooks(
	urls: string | undefined,
	secret: string | undefined,
	production: boolean
): Config['webhooks'] {
	const list = (urls ?? '')
		.split(',')
		.map((url) => url.trim())
		.filter((url) => url !== '');
	if (list.length === 0) {
		if (secret) throw new ConfigError('WEBHOOK_SECRET: set without WEBHOOK_URL');
		return undefined;
	}
	for (const url of list) {
		const parsed = URL.canParse(url) ? new URL(url) : undefined;
		if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.username)
			throw new ConfigError(`WEBHOOK_URL: "${url.slice(0, 60)}" is not an http(s) URL`);
		if (production && parsed.protocol !== 'https:' && !LOOPBACK_HOSTS.has(parsed.hostname))
			throw new ConfigError(`WEBHOOK_URL: ${parsed.host} must use https in production`);
	}
	if (!secret) throw new ConfigError('WEBHOOK_SECRET: required when WEBHOOK_URL is set');
	const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : '';
	const bytes = Buffer.from(encoded, 'base64');
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || bytes.length < 24)
		throw new ConfigError(
			'WEBHOOK_SECRET: must be whsec_ followed by the base64 of at least 24 random bytes'
		);
	return { endpoints: [...new Set(list)], secret: bytes };
}
