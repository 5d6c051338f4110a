import { randomUUID } from 'node:crypto';
import { sameSecret } from '../core/tokens';
import { m } from '$lib/paraglide/messages';
import {
	codePayload,
	consumeCode,
	liveCode,
	looksLikeCode,
	replaceCodePayload,
	sendCode,
	unusedCodeWithPayload,
	smsDestinationProblem
} from '../messaging';
import { findAccountByIdentifier } from './find';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { countAccountsOnDevice, recordDevice } from './devices';
import { isUniqueViolation } from '../db/errors';
import type { Account, AccountStatus } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import {
	isCountryCode,
	maskIdentifier,
	parseIdentifier,
	type Identifier
} from '../core/identifiers';
import { hashPassword } from './passwords';
import { newPasswordFailure } from './new-password';
import { limitAddress } from '../platform/limits';
import type { RequestMeta } from '../core/request-meta';

/** What the confirming step needs, carried in the code's row (the password only as its hash). */
interface PendingRegistration {
	passwordHash: string;
	country: string;
	ipCountry: string | null;
	locale: string;
	/** Keyed hash of the starting browser's token (`http/registration-cookie.ts`). */
	starterHash: string;
	/**
	 * Browsers that started the same registration while this one's code was live: they never
	 * replace it (nor get a new code), but whoever has the code may finish in their own browser
	 * with their own password — so a stranger holding a pending registration locks nobody out.
	 */
	alternates?: Omit<PendingRegistration, 'alternates'>[];
}

/** How many other browsers' starts a live registration keeps (the newest). */
const MAX_ALTERNATES = 10;

/** Who is asking: the request, and the registration token its browser holds (if any). */
export type RegistrationMeta = RequestMeta & { starter: string | null };

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
	ctx: Ctx,
	input: { identifier: string; password: string; country: string },
	meta: RequestMeta & { starter: string }
): Promise<CodeSent | Failure> {
	const limited = await limitAddress(ctx, 'register', meta.ip, REGISTRATIONS_PER_IP);
	if (!limited.ok) return failures.rateLimited(limited.retryAfterSeconds);

	if (!isCountryCode(input.country)) return failures.invalidCountry();
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const identifier = parsed.identifier;
	// R29: no SMS to a refused number, said before any account look-up.
	const smsRefused = smsDestinationProblem(ctx.config, identifier);
	if (smsRefused) return smsRefused;
	const refused = await newPasswordFailure(
		ctx,
		input.password,
		[identifier.value, input.identifier.trim()],
		'password'
	);
	if (refused) return refused;
	// R3: a clear answer with a pointer to forgot-password (the form links it).
	if (await findAccountByIdentifier(ctx, identifier)) return failures.identifierTaken();
	const starterHash = ctx.keys.hmac('registration-starter', meta.starter);
	const pending: PendingRegistration = {
		passwordHash: await hashPassword(input.password),
		country: input.country,
		ipCountry: meta.ipCountry,
		locale: meta.locale,
		starterHash
	};
	// R3/R6: a live registration started by another browser is never replaced (its password is
	// its starter's). This start is kept beside it, and no new code is sent: the code already on
	// its way to the identifier finishes whichever of the two the code's holder is typing in.
	const live = await livePendingRegistration(ctx, identifier);
	if (live && !sameStarter(live.pending.starterHash, starterHash)) {
		const alternates = [
			...(live.pending.alternates ?? []).filter((a) => !sameStarter(a.starterHash, starterHash)),
			pending
		].slice(-MAX_ALTERNATES);
		await replaceCodePayload(ctx, live.id, { ...live.pending, alternates });
		return {
			ok: true,
			identifier,
			masked: maskIdentifier(identifier),
			expiresAt: live.expiresAt,
			resendAfter: live.expiresAt
		};
	}
	return sendRegistrationCode(ctx, identifier, pending, meta);
}

/** The pending details that belong to this browser: the starter's, or one kept beside them. */
function pendingFor(
	pending: PendingRegistration,
	starterHash: string | null
): Omit<PendingRegistration, 'alternates'> | null {
	if (sameStarter(pending.starterHash, starterHash)) return pending;
	return pending.alternates?.find((a) => sameStarter(a.starterHash, starterHash)) ?? null;
}

/** The registration still waiting for its code, if one is live for the identifier. */
async function livePendingRegistration(
	ctx: Ctx,
	identifier: Identifier
): Promise<{ id: string; pending: PendingRegistration; expiresAt: Date } | null> {
	const code = await unusedCodeWithPayload<PendingRegistration>(ctx, 'register', identifier.value);
	if (!code?.live) return null;
	return { id: code.id, pending: code.payload, expiresAt: code.expiresAt };
}

function sameStarter(stored: string | undefined, given: string | null): boolean {
	return !!stored && !!given && sameSecret(stored, given);
}

/**
 * R3/R6: this browser's registration still waiting for its code, read only, so its
 * code step can be shown again (a reload, a return from the mail app, the check report). Only
 * the starting browser's token finds it (or one kept beside it); a used, locked or expired code
 * ends it. Nothing is sent.
 */
export async function pendingRegistration(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	starter: string | null
): Promise<{ identifier: Identifier; expiresAt: Date; resendAfter: Date } | null> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok || !starter) return null;
	const live = await livePendingRegistration(ctx, parsed.identifier);
	const own = live && pendingFor(live.pending, ctx.keys.hmac('registration-starter', starter));
	const times = own ? await liveCode(ctx, 'register', parsed.identifier.value) : null;
	if (!live || !times) return null;
	// A start kept beside another browser's has no code of its own to resend (as at its start).
	const resendAfter = own === live.pending ? times.resendAfter : times.expiresAt;
	return { identifier: parsed.identifier, expiresAt: times.expiresAt, resendAfter };
}

/** R6: a new code for a registration already started, carrying the same pending details. */
export async function resendRegistrationCode(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	meta: RegistrationMeta
): Promise<CodeSent | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const smsRefused = smsDestinationProblem(ctx.config, parsed.identifier);
	if (smsRefused) return smsRefused;
	const code = await unusedCodeWithPayload<PendingRegistration>(
		ctx,
		'register',
		parsed.identifier.value
	);
	const pending = code?.payload ?? null;
	// Only the browser that started it may ask for another code (R6; no resends for strangers).
	const starterHash = meta.starter ? ctx.keys.hmac('registration-starter', meta.starter) : null;
	if (!pending || !sameStarter(pending.starterHash, starterHash))
		return failures.code('code_invalid');
	return sendRegistrationCode(ctx, parsed.identifier, pending, meta);
}

async function sendRegistrationCode(
	ctx: Ctx,
	identifier: Identifier,
	pending: PendingRegistration,
	meta: RequestMeta
): Promise<CodeSent | Failure> {
	// R7: the code and its message are stored together, or not at all.
	return ctx.db.transaction().execute(async (trx) => {
		const sent = await sendCode(
			{ ...ctx, db: trx },
			{ purpose: 'register', to: identifier, locale: meta.locale, ip: meta.ip, payload: pending }
		);
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
	ctx: Ctx,
	input: { identifier: string; code: string; country?: string | undefined },
	meta: RegistrationMeta
): Promise<{ ok: true; account: Account } | Failure> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const identifier = parsed.identifier;
	const { db } = ctx;
	if (await findAccountByIdentifier(ctx, identifier)) return failures.identifierTaken();
	// R3/R6: the code proves control of the identifier; the password in the pending row is the
	// starting browser's, so only that browser may finish. Asked before the code is compared.
	const live = await livePendingRegistration(ctx, identifier);
	const starterHash = meta.starter ? ctx.keys.hmac('registration-starter', meta.starter) : null;
	if (live && !pendingFor(live.pending, starterHash)) {
		return startedElsewhere();
	}

	try {
		return await db.transaction().execute(async (trx) => {
			const consumed = await consumeCode(
				{ ...ctx, db: trx },
				{ purpose: 'register', identifier: identifier.value, code: input.code }
			);
			if (!consumed.ok) {
				// A parallel confirmation may have just created the account with this very code.
				if (await findAccountByIdentifier({ ...ctx, db: trx }, identifier))
					return failures.identifierTaken();
				return failures.code(consumed.reason, consumed.attemptsLeft);
			}
			// The row read above may have changed since; the consumed one decides whose this is.
			const carried = codePayload<PendingRegistration>(consumed.row);
			const pending = carried && pendingFor(carried, starterHash);
			if (!pending) throw new RegistrationElsewhere();
			const account = await createAccount({ ...ctx, db: trx }, identifier, pending, meta);
			await audit(
				{ ...ctx, db: trx },
				{
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
				}
			);
			return { ok: true as const, account };
		});
	} catch (error) {
		if (error instanceof RegistrationElsewhere) return startedElsewhere();
		if (isUniqueViolation(error)) return failures.identifierTaken();
		throw error;
	}
}

/** A browser that had no part in the registration typed its code: nothing is spent. */
const startedElsewhere = () =>
	failure(409, 'registration_elsewhere', m.error_registration_elsewhere(), { field: 'code' });

/** Rolls the confirming transaction back (the code stays unused) when the starter differs. */
class RegistrationElsewhere extends Error {}

async function createAccount(
	ctx: Ctx,
	identifier: Identifier,
	pending: Omit<PendingRegistration, 'alternates'>,
	meta: RequestMeta
): Promise<Account> {
	await recordDevice(ctx, meta.deviceId);
	const earlier = await countAccountsOnDevice(ctx, meta.deviceId);
	const status: AccountStatus = ipCountryMismatch(pending.ipCountry, pending.country)
		? 'under_review'
		: 'active';
	const account: Account = {
		id: randomUUID(),
		email: identifier.kind === 'email' ? identifier.value : null,
		phone: identifier.kind === 'phone' ? identifier.value : null,
		password_hash: pending.passwordHash,
		status,
		country: pending.country,
		locale: pending.locale,
		created_at: ctx.clock.now().getTime(),
		first_order_at: null,
		reg_ip_country: pending.ipCountry,
		reg_device_id: meta.deviceId,
		multiple_accounts_on_device: earlier > 0 ? 1 : 0,
		review_decided_at: null,
		review_decided_by: null,
		password_changed_at: ctx.clock.now().getTime(),
		frozen_at: null,
		secured_at: null,
		rebind_due_at: null,
		deletion_due_at: null,
		// §7a: a new account's credential epoch; its first session starts at it.
		session_epoch: 0
	};
	await ctx.db.insertInto('accounts').values(account).execute();
	return account;
}
