import { randomUUID } from 'node:crypto';
import { sendCode } from './code-delivery';
import { findAccountByIdentifier } from './accounts';
import type { AppContext } from './app';
import { audit } from './audit';
import { countAccountsOnDevice, recordDevice } from './devices';
import type { Db } from './db/database';
import type { Account, AccountStatus } from './db/schema';
import { failures, type Failure } from './failures';
import { isCountryCode, maskIdentifier, parseIdentifier, type Identifier } from './identifiers';
import { checkPassword, hashPassword } from './passwords';
import { limit } from './rate-limit';
import type { RequestMeta } from './request-meta';
import { consumeCode, looksLikeCode } from './verification-codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

/** What the confirming step needs, carried in the code's row (the password only as its hash). */
interface PendingRegistration {
	passwordHash: string;
	country: string;
	ipCountry: string | null;
	locale: string;
}

export interface CodeSent {
	ok: true;
	identifier: Identifier;
	masked: string;
	expiresAt: Date;
	resendAfter: Date;
}

// Registrations per client address: generous for shared networks, tight for scripts.
const REGISTRATIONS_PER_IP = { max: 30, windowMs: 3_600_000 };

/** R9: the chosen country differs from the request's known IP country. Unknown IPs never differ. */
export function ipCountryMismatch(ipCountry: string | null, chosen: string): boolean {
	return ipCountry !== null && ipCountry !== chosen;
}

/** Step 1 (R8): identifier, password and country → a code to the identifier. Nothing else asked. */
export async function startRegistration(
	deps: Deps,
	input: { identifier: string; password: string; country: string },
	meta: RequestMeta
): Promise<CodeSent | Failure> {
	const { db } = deps.database;
	const limited = await limit(db, deps.clock, `register:ip:${deps.keys.hmac('ip', meta.ip)}`, REGISTRATIONS_PER_IP);
	if (!limited.ok) return failures.rateLimited(limited.retryAfterSeconds);

	if (!isCountryCode(input.country)) return failures.invalidCountry();
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	const problem = checkPassword(input.password, {
		minLength: deps.config.passwordMinLength,
		identifiers: [identifier.value, input.identifier.trim()]
	});
	if (problem) return failures.password(problem, deps.config.passwordMinLength);
	// R3: a clear answer with a pointer to forgot-password (the form links it).
	if (await findAccountByIdentifier(db, identifier)) return failures.identifierTaken();

	const pending: PendingRegistration = {
		passwordHash: await hashPassword(input.password),
		country: input.country,
		ipCountry: meta.ipCountry,
		locale: meta.locale
	};
	return sendRegistrationCode(deps, identifier, pending, meta);
}

/** R6: a new code for a registration already started, carrying the same pending details. */
export async function resendRegistrationCode(
	deps: Deps,
	input: { identifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<CodeSent | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const row = await deps.database.db
		.selectFrom('verification_codes')
		.select('payload')
		.where('purpose', '=', 'register')
		.where('identifier', '=', parsed.identifier.value)
		.where('consumed_at', 'is', null)
		.executeTakeFirst();
	if (!row?.payload) return failures.code('code_invalid');
	return sendRegistrationCode(deps, parsed.identifier, JSON.parse(row.payload) as PendingRegistration, meta);
}

async function sendRegistrationCode(
	deps: Deps,
	identifier: Identifier,
	pending: PendingRegistration,
	meta: RequestMeta
): Promise<CodeSent | Failure> {
	// R7: the code and its message are stored together, or not at all.
	return deps.database.db.transaction().execute(async (trx) => {
		const sent = await sendCode(trx, deps, { purpose: 'register', to: identifier, locale: meta.locale, payload: pending });
		if (!sent.ok) return sent;
		return { ...sent, identifier, masked: maskIdentifier(identifier) };
	});
}

/**
 * Step 2: the code creates the account. R3: the unique index decides races, and every loser gets
 * `identifier_taken`; R9: a country mismatch creates it `under_review`; R10: a second account from
 * one device is flagged.
 */
export async function confirmRegistration(
	deps: Deps,
	input: { identifier: string; code: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; account: Account } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const identifier = parsed.identifier;
	const { db } = deps.database;
	if (await findAccountByIdentifier(db, identifier)) return failures.identifierTaken();

	try {
		return await db.transaction().execute(async (trx) => {
			const consumed = await consumeCode(
				{ db: trx, clock: deps.clock, keys: deps.keys },
				{ purpose: 'register', identifier: identifier.value, code: input.code }
			);
			if (!consumed.ok) {
				// A parallel confirmation may have just created the account with this very code.
				if (await findAccountByIdentifier(trx, identifier)) return failures.identifierTaken();
				return failures.code(consumed.reason);
			}
			const pending = JSON.parse(consumed.row.payload ?? '{}') as PendingRegistration;
			const account = await createAccount(trx, deps, identifier, pending, meta);
			await audit(trx, deps.clock, {
				actorKind: 'account',
				actorId: account.id,
				action: 'account.registered',
				subjectKind: 'account',
				subjectId: account.id,
				ip: meta.ip,
				details: {
					status: account.status,
					country: account.country,
					ipCountry: account.reg_ip_country,
					multipleAccountsOnDevice: account.multiple_accounts_on_device === 1
				}
			});
			return { ok: true as const, account };
		});
	} catch (error) {
		if (isUniqueViolation(error)) return failures.identifierTaken();
		throw error;
	}
}

async function createAccount(
	db: Db,
	deps: Deps,
	identifier: Identifier,
	pending: PendingRegistration,
	meta: RequestMeta
): Promise<Account> {
	await recordDevice(db, deps.clock, meta.deviceId);
	const earlier = await countAccountsOnDevice(db, meta.deviceId);
	const status: AccountStatus = ipCountryMismatch(pending.ipCountry, pending.country) ? 'under_review' : 'active';
	const account: Account = {
		id: randomUUID(),
		email: identifier.kind === 'email' ? identifier.value : null,
		phone: identifier.kind === 'phone' ? identifier.value : null,
		password_hash: pending.passwordHash,
		status,
		country: pending.country,
		locale: pending.locale,
		created_at: deps.clock.now().getTime(),
		first_order_at: null,
		reg_ip_country: pending.ipCountry,
		reg_device_id: meta.deviceId,
		multiple_accounts_on_device: earlier > 0 ? 1 : 0,
		review_decided_at: null,
		review_decided_by: null
	};
	await db.insertInto('accounts').values(account).execute();
	return account;
}

export function isUniqueViolation(error: unknown): boolean {
	const e = error as { code?: string; message?: string } | null;
	return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}
