import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { failure, type Failure } from '../core/failures';
import { boundContacts } from '../core/identifiers';
import type { RequestMeta } from '../core/request-meta';
import { hashToken, isToken, newToken } from '../core/tokens';
import type { Account } from '../db/schema';
import { confirmCurrentPassword, invalidateAccountSessions } from '../accounts';
import {
	asLocale,
	deletionCancelLink,
	deletionCancelledMessage,
	deletionScheduledMessage,
	enqueueMessage,
	revokePendingCodes
} from '../messaging';
import { refusedFromNetwork } from '../platform/limits';

/**
 * R28, the owner's deletion (GDPR Art. 17). Asked for by the signed-in owner with the password
 * again; it waits DELETION_GRACE_MS, during which every contact bound to the account holds a link
 * that keeps the account, and the owner who signs in again can keep it too. Then `erasure.ts`
 * erases the account.
 */
const DELETION_GRACE_MS = 14 * 86_400_000;

/** R24 as for the recovery links: only refused links count against the network. */
const DELETION_CANCELS_PER_IP = { max: 20, windowMs: 3_600_000 };

const linkInvalid = () => failure(400, 'link_invalid', m.error_deletion_link_invalid());
const linkExpired = () => failure(410, 'link_expired', m.error_deletion_link_expired());
const nothingPending = () => failure(409, 'no_pending_deletion', m.error_no_pending_deletion());

export type DeletionAsked = { ok: true; effectiveAt: Date; changed: boolean };

/**
 * R28: the owner asks for the deletion. In one transaction: `deletion_due_at` is set (only when
 * none waits: asking again answers the same time and sends nothing), every session ends (this one
 * too), pending codes die, every bound contact gets the time and a keep-my-account link of its
 * own, and it is audited (and, R27, announced as `account.deletion_scheduled`).
 */
export async function requestDeletion(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string },
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<DeletionAsked | Failure> {
	const wrong = await confirmCurrentPassword(ctx, account, input.currentPassword, 'deletion');
	if (wrong) return wrong;
	const now = ctx.clock.now().getTime();
	const effectiveAt = now + DELETION_GRACE_MS;
	return ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const set = await trx
			.updateTable('accounts')
			.set({ deletion_due_at: effectiveAt })
			.where('id', '=', account.id)
			.where('deletion_due_at', 'is', null)
			.executeTakeFirst();
		const row = await trx
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', account.id)
			.executeTakeFirstOrThrow();
		const due = new Date(Number(row.deletion_due_at));
		if (set.numUpdatedRows === 0n) return { ok: true as const, effectiveAt: due, changed: false };
		await invalidateAccountSessions(tx, row.id);
		const contacts = boundContacts(row);
		await revokePendingCodes(tx, { accountId: row.id, identifiers: contacts.map((c) => c.value) });
		const locale = asLocale(row.locale);
		for (const to of contacts) {
			const token = newToken();
			await trx
				.insertInto('deletion_cancel_tokens')
				.values({
					id: hashToken(token),
					account_id: row.id,
					created_at: now,
					expires_at: effectiveAt,
					used_at: null
				})
				.execute();
			const link = deletionCancelLink(ctx.config.origin, token);
			await enqueueMessage(tx, deletionScheduledMessage(to, locale, { effectiveAt: due, link }));
		}
		await audit(tx, {
			actorKind: 'account',
			actorId: row.id,
			action: 'account.deletion_requested',
			subjectKind: 'account',
			subjectId: row.id,
			ip: meta.ip,
			details: { effectiveAt: due.toISOString(), ipCountry: meta.ipCountry ?? null }
		});
		return { ok: true as const, effectiveAt: due, changed: true };
	});
}

/**
 * Who kept the account: a keep link, the owner signed in again, the owner's freeze (§7b: one
 * step stops everything), or an appeal's rebind (R24: the account has a new holder, who did not
 * ask for its deletion).
 */
type KeptBy = 'link' | 'owner' | 'freeze' | 'recovery';

/**
 * Clears a waiting deletion, in the caller's transaction (the conditional update is the claim: of
 * two keeps at once only one tells the contacts), spends every keep link of the account, tells
 * every bound contact (not after a rebind: its own notices go) and audits. A link or the owner
 * can keep it only before its time (then the erasure has won); a freeze or a rebind whenever one
 * still waits. False when none was cleared.
 */
export async function keepAccount(
	tx: Ctx,
	accountId: string,
	by: KeptBy,
	meta: { ip: string | null; ipCountry?: string | null }
): Promise<boolean> {
	const now = tx.clock.now().getTime();
	const clear = tx.db
		.updateTable('accounts')
		.set({ deletion_due_at: null })
		.where('id', '=', accountId);
	const cleared = await (
		by === 'link' || by === 'owner'
			? clear.where('deletion_due_at', '>', now)
			: clear.where('deletion_due_at', 'is not', null)
	).executeTakeFirst();
	if (cleared.numUpdatedRows === 0n) return false;
	await tx.db
		.updateTable('deletion_cancel_tokens')
		.set({ used_at: now })
		.where('account_id', '=', accountId)
		.where('used_at', 'is', null)
		.execute();
	const account = await tx.db
		.selectFrom('accounts')
		.select(['email', 'phone', 'locale'])
		.where('id', '=', accountId)
		.executeTakeFirstOrThrow();
	const locale = asLocale(account.locale);
	if (by !== 'recovery')
		for (const to of boundContacts(account))
			await enqueueMessage(tx, deletionCancelledMessage(to, locale));
	await audit(tx, {
		// A freeze or a rebind keeps it as a consequence: the system, whoever caused it.
		...(by === 'owner'
			? { actorKind: 'account' as const, actorId: accountId }
			: { actorKind: by === 'link' ? ('anonymous' as const) : ('system' as const), actorId: null }),
		action: 'account.deletion_cancelled',
		subjectKind: 'account',
		subjectId: accountId,
		ip: meta.ip,
		details: { by, ipCountry: meta.ipCountry ?? null }
	});
	return true;
}

/**
 * R28: a keep-my-account link → the deletion is cancelled. Opening the page changes nothing (the
 * button's POST does). Unknown, used or malformed: `link_invalid`; the deletion no longer waiting
 * (cancelled another way, or due): `link_expired`. Only refused links count against the network,
 * so a stranger who spends that budget cannot stop the owner's click on a live link (R24).
 */
export async function cancelDeletionByLink(
	ctx: Ctx,
	input: { token: string },
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<{ ok: true } | Failure> {
	const refused = (answer: Failure) =>
		refusedFromNetwork(ctx, 'deletion-cancel', meta.ip, DELETION_CANCELS_PER_IP, answer);
	if (!isToken(input.token)) return refused(linkInvalid());
	const id = hashToken(input.token);
	const now = ctx.clock.now().getTime();
	const result = await ctx.db.transaction().execute(async (trx) => {
		const row = await trx
			.selectFrom('deletion_cancel_tokens')
			.select(['account_id', 'expires_at', 'used_at'])
			.where('id', '=', id)
			.executeTakeFirst();
		if (!row || row.used_at !== null) return linkInvalid();
		if (now >= Number(row.expires_at)) return linkExpired();
		const kept = await keepAccount({ ...ctx, db: trx }, row.account_id, 'link', meta);
		return kept ? { ok: true as const } : linkExpired();
	});
	return result.ok ? result : refused(result);
}

/** R28: the owner, signed in again during the grace period, keeps the account. */
export async function cancelDeletionByOwner(
	ctx: Ctx,
	account: Account,
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<{ ok: true } | Failure> {
	const kept = await ctx.db
		.transaction()
		.execute((trx) => keepAccount({ ...ctx, db: trx }, account.id, 'owner', meta));
	return kept ? { ok: true } : nothingPending();
}

/** When the account's waiting deletion takes effect, or null. */
export function deletionDueAt(account: Pick<Account, 'deletion_due_at'>): Date | null {
	return account.deletion_due_at === null ? null : new Date(Number(account.deletion_due_at));
}
