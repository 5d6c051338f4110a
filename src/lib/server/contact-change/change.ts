import { sql } from 'kysely';
import { sendCode } from '../messaging/code-delivery';
import { m } from '$lib/paraglide/messages';
import type { AppContext } from '../core/context';
import { audit } from '../core/audit';
import { contactChangeQuota, type ContactChangeQuota } from './quota';
import type { Db } from '../db/database';
import type { Account } from '../db/schema';
import { failure, failures, secondsUntil, type Failure } from '../core/failures';
import { maskIdentifier, parseIdentifier, type Identifier } from '../core/identifiers';
import { asLocale } from '../messaging/templates';
import { enqueueMessage } from '../messaging/outbox';
import { verifyPassword } from '../accounts/passwords';
import { isUniqueViolation } from '../accounts/registration';
import { blockUntil, hit, limit, peek } from '../platform/limits';
import { deviceLabel, type RequestMeta } from '../core/request-meta';
import { invalidateAccountSessions } from '../accounts/sessions';
import { consumeAccountCode, looksLikeCode, revokePendingCodes } from '../messaging/codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

// Wrong current passwords on this form: 5 per hour, then a 15-minute pause.
const PASSWORD_FAILURES = { max: 5, windowMs: 3_600_000, pauseMs: 15 * 60_000 };
// Codes to new contacts per account: a person tries one or two addresses, not dozens (R6 caps
// per recipient and per network apply on top, in `sendCode`).
const STARTS_PER_ACCOUNT = { max: 10, windowMs: 3_600_000 };

export interface QuotaView {
	used: number;
	limit: number;
	remaining: number;
	windowDays: number;
	minIntervalDays: number;
	nextAllowedAt: string | null;
}

export function quotaView(q: ContactChangeQuota): QuotaView {
	return {
		used: q.used,
		limit: q.limit,
		remaining: q.remaining,
		windowDays: q.windowDays,
		minIntervalDays: q.minIntervalDays,
		nextAllowedAt: q.nextAllowedAt?.toISOString() ?? null
	};
}

export async function readQuota(db: Db, accountId: string, now: Date): Promise<ContactChangeQuota> {
	const rows = await db.selectFrom('contact_changes').select('changed_at').where('account_id', '=', accountId).execute();
	return contactChangeQuota(rows.map((r) => r.changed_at), now);
}

function quotaRefusal(q: ContactChangeQuota): Failure | null {
	if (!q.blockedBy || !q.nextAllowedAt) return null;
	const nextAllowedAt = q.nextAllowedAt.toISOString();
	return failure(
		409,
		q.blockedBy,
		q.blockedBy === 'change_too_soon' ? m.error_change_too_soon({ date: nextAllowedAt }) : m.error_change_quota_exhausted({ date: nextAllowedAt }),
		{ extra: { nextAllowedAt } }
	);
}

/**
 * R16 step 1: current password + new contact → a code to the new contact. R15: the answer is
 * the same 202 whether or not another account holds the new contact, so this form is no
 * registration oracle; R3's conflict is reported only after the code to it is confirmed.
 */
export async function startContactChange(
	deps: Deps,
	account: Account,
	input: { currentPassword: string; newIdentifier: string; country?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; masked: string; expiresAt: Date; resendAfter: Date } | Failure> {
	const { db } = deps.database;
	const pauseKey = `contact-change-pause:${account.id}`;
	const paused = await peek(db, deps.clock, pauseKey);
	if (paused) return failures.rateLimited(secondsUntil(new Date(paused.resetAt), deps.clock.now()));
	if (!(await verifyPassword(account.password_hash, input.currentPassword))) {
		const window = await hit(db, deps.clock, `contact-change-fail:${account.id}`, PASSWORD_FAILURES.windowMs);
		if (window.count >= PASSWORD_FAILURES.max) await blockUntil(db, pauseKey, deps.clock.now().getTime() + PASSWORD_FAILURES.pauseMs);
		return failure(403, 'invalid_credentials', m.error_current_password(), { field: 'currentPassword' });
	}
	const parsed = parseIdentifier(input.newIdentifier, input.country ?? account.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem, 'newIdentifier');
	const next = parsed.identifier;
	if (next.value === account.email || next.value === account.phone) {
		return failure(400, 'identifier_unchanged', m.error_identifier_unchanged(), { field: 'newIdentifier' });
	}
	const refusal = quotaRefusal(await readQuota(db, account.id, deps.clock.now()));
	if (refusal) return refusal;
	const starts = await limit(db, deps.clock, `contact-change-start:${account.id}`, STARTS_PER_ACCOUNT);
	if (!starts.ok) return failures.rateLimited(starts.retryAfterSeconds);

	return db.transaction().execute(async (trx) => {
		const sent = await sendCode(trx, deps, {
			purpose: 'contact_change',
			to: next,
			locale: meta.locale,
			ip: meta.ip,
			accountId: account.id,
			payload: { kind: next.kind }
		});
		return sent.ok ? { ...sent, masked: maskIdentifier(next) } : sent;
	});
}

/**
 * R16 step 2, atomically: the quota is re-read under a lock on the account (PostgreSQL row lock;
 * SQLite runs one write transaction at a time), so parallel confirmations cannot exceed it.
 * R17: the old contact is told, and every other session is signed out.
 */
export async function confirmContactChange(
	deps: Deps,
	account: Account,
	input: { code: string },
	meta: RequestMeta & { sessionId: string | null }
): Promise<{ ok: true; quota: QuotaView; contact: Identifier } | Failure> {
	if (!looksLikeCode(input.code)) return failures.codeFormat();
	const { db, dialect } = deps.database;
	const codeDeps = { db, clock: deps.clock, keys: deps.keys };
	try {
		return await db.transaction().execute(async (trx) => {
			if (dialect === 'postgres') await sql`select id from accounts where id = ${account.id} for update`.execute(trx);
			const current = await trx.selectFrom('accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
			const now = deps.clock.now();
			const refusal = quotaRefusal(await readQuota(trx, account.id, now));
			if (refusal) return refusal;
			// R6: only the account's newest contact-change code is compared, and every guess counts.
			const consumed = await consumeAccountCode({ ...codeDeps, db: trx }, { purpose: 'contact_change', accountId: account.id, code: input.code });
			if (!consumed.ok) return failures.code(consumed.reason);
			const match = consumed.row;
			const next = parseIdentifier(match.identifier);
			if (!next.ok) return failures.code('code_invalid');
			const contact = next.identifier;
			// R3, told only now that the code proved control of the new contact.
			const holder = await trx.selectFrom('accounts').select('id').where(contact.kind, '=', contact.value).executeTakeFirst();
			if (holder) throw new ContactTaken();
			// The new contact replaces the bound one of its kind, or the only one bound.
			const replacesKind = contact.kind === 'email' ? (current.email ? 'email' : 'phone') : current.phone ? 'phone' : 'email';
			const old: Identifier = replacesKind === 'email' ? { kind: 'email', value: current.email! } : { kind: 'phone', value: current.phone! };
			await trx
				.updateTable('accounts')
				.set(replacesKind === contact.kind ? { [contact.kind]: contact.value } : { [replacesKind]: null, [contact.kind]: contact.value })
				.where('id', '=', account.id)
				.execute();
			const changeId = crypto.randomUUID();
			await trx
				.insertInto('contact_changes')
				.values({ id: changeId, account_id: account.id, kind: 'owner', old_identifier: old.value, new_identifier: contact.value, changed_at: now.getTime() })
				.execute();
			await invalidateAccountSessions(trx, account.id, meta.sessionId ?? undefined);
			// R17/R18: codes still out to the old contact (a reset, a check) die with the change.
			await revokePendingCodes(trx, { accountId: account.id, identifiers: [old.value] });
			await enqueueMessage(trx, deps, contactChangedNotice(old, contact, changeId, asLocale(current.locale)));
			await audit(trx, deps.clock, {
				actorKind: 'account',
				actorId: account.id,
				action: 'account.contact_changed',
				subjectKind: 'account',
				subjectId: account.id,
				ip: meta.ip,
				details: { from: maskIdentifier(old), to: maskIdentifier(contact), ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
			});
			const quota = await readQuota(trx, account.id, now);
			return { ok: true as const, quota: quotaView(quota), contact };
		});
	} catch (error) {
		// Rolled back, so the code stays usable and nothing partial is stored.
		if (error instanceof ContactTaken || isUniqueViolation(error)) return { ...failures.identifierTaken(), field: 'code' };
		throw error;
	}
}

class ContactTaken extends Error {}

/** R17: the old contact hears of the change, with a way into the appeal if it was not them. */
function contactChangedNotice(old: Identifier, next: Identifier, changeId: string, locale: ReturnType<typeof asLocale>) {
	const text = m.msg_contact_changed({ masked: maskIdentifier(next), link: `/appeal?change=${changeId}` }, { locale });
	return {
		channel: old.kind === 'email' ? ('email' as const) : ('sms' as const),
		recipient: old.value,
		purpose: 'contact_changed',
		locale,
		subject: old.kind === 'email' ? m.msg_contact_changed_subject({}, { locale }) : null,
		body: text
	};
}
