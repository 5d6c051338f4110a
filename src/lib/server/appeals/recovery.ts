import { m } from '$lib/paraglide/messages';
import type { ExpressionBuilder } from 'kysely';
import { OPEN_APPEAL_STATUSES, type PendingRecovery } from '$lib/types/account';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { Account, Database } from '../db/schema';
import { failure, type Failure } from '../core/failures';
import { maskIdentifier, parseIdentifier, type Identifier } from '../core/identifiers';
import type { RequestMeta } from '../core/request-meta';
import { hashToken, isToken } from '../core/tokens';
import { log } from '../core/log';
import { confirmCurrentPassword } from '../accounts';
import { asLocale, enqueueMessage } from '../messaging';
import { appealCancelledMessage } from '../messaging';
import { refusedFromNetwork } from '../platform/limits';
import { isContactTaken } from '../contact-change';
import { applyRebind, refreshAccountRebindDue } from './decisions';
import { RECOVERY_REMINDER_EVERY_MS, remindHeldRecovery } from './recovery-notices';

/**
 * Rules §8a, recovery the owner controls: an appeal filed for an account can be stopped by whoever
 * holds the account now (a cancel link sent to its contacts, or the signed-in owner with the
 * password) until its rebind happens; an approval waits out a hold before the rebind, which is
 * applied exactly once, by the job below or by the first read of the account after it is due.
 */

/** Cancel-link attempts per client network (IPv4 address, IPv6 /64 and /48), as secure links. */
const RECOVERY_CANCELS_PER_IP = { max: 20, windowMs: 3_600_000 };

/** What the job does at least this often in every instance. */
const RECOVERY_JOB_INTERVAL_MS = 60_000;

/** Still stoppable at `now`: open, or approved and waiting out a hold that has not ended. */
function stoppable(now: number) {
	return (eb: ExpressionBuilder<Database, 'appeals'>) =>
		eb.and([
			eb('rebound_at', 'is', null),
			eb.or([
				eb('status', 'in', OPEN_APPEAL_STATUSES),
				eb.and([eb('status', '=', 'approved'), eb('rebind_due_at', '>', now)])
			])
		]);
}

const linkInvalid = () => failure(400, 'link_invalid', m.error_recovery_link_invalid());
const linkExpired = () => failure(410, 'link_expired', m.error_recovery_link_expired());
const nothingPending = () => failure(409, 'no_pending_recovery', m.error_no_pending_recovery());

// ---------------------------------------------------------------------------------------------
// The rebind after the hold: claimed by a conditional update, so it happens once.

/**
 * Applies the appeal's rebind if it is due and nobody applied or stopped it. The claim is the
 * conditional update (`rebound_at is null and status = 'approved' and rebind_due_at <= now`):
 * two instances, or the job and a read at once, apply one rebind and send one set of notices.
 */
export async function applyDueRebind(ctx: Ctx, appealId: string): Promise<boolean> {
	const now = ctx.clock.now().getTime();
	try {
		return await ctx.db.transaction().execute(async (trx) => {
			const claimed = await trx
				.updateTable('appeals')
				.set({ rebound_at: now, updated_at: now })
				.where('id', '=', appealId)
				.where(dueRebinds(now))
				.executeTakeFirst();
			if (claimed.numUpdatedRows === 0n) return false;
			const row = await trx
				.selectFrom('appeals')
				.selectAll()
				.where('id', '=', appealId)
				.executeTakeFirstOrThrow();
			const next = parseIdentifier(row.new_identifier);
			if (!next.ok || !row.account_id) throw new Error('appeal without a usable new contact');
			await applyRebind({ ...ctx, db: trx }, row, next.identifier, {
				actorKind: 'system',
				actorId: null,
				ip: null
			});
			return true;
		});
	} catch (error) {
		if (isContactTaken(error)) await refuseDueRebind(ctx, appealId, now);
		else
			log.error({ event: 'recovery.rebind_failed', appealId, message: (error as Error)?.message });
		return false;
	}
}

/**
 * R3 during the hold: the new contact now belongs to another account (the claim above rolled
 * back with the rebind). Nothing is rebound; the appeal stays approved without a rebind, unless
 * someone stopped or applied it meanwhile (agents see why in the audit log).
 */
async function refuseDueRebind(ctx: Ctx, appealId: string, now: number): Promise<void> {
	await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const refused = await trx
			.updateTable('appeals')
			.set({ rebind_due_at: null, updated_at: now })
			.where('id', '=', appealId)
			.where(dueRebinds(now))
			.returning('account_id')
			.executeTakeFirst();
		if (!refused) return;
		if (refused.account_id) await refreshAccountRebindDue(tx, refused.account_id);
		await audit(tx, {
			actorKind: 'system',
			actorId: null,
			action: 'appeal.rebind_refused',
			subjectKind: 'appeal',
			subjectId: appealId,
			details: { reason: 'identifier_taken' }
		});
	});
}

/** §8a: approved, not yet rebound (nor stopped), and its hold over at `now`. */
function dueRebinds(now: number) {
	return (eb: ExpressionBuilder<Database, 'appeals'>) =>
		eb.and([
			eb('status', '=', 'approved'),
			eb('rebound_at', 'is', null),
			eb('rebind_due_at', 'is not', null),
			eb('rebind_due_at', '<=', now)
		]);
}

/** The ids of the appeals whose rebind is due, of one account or of all. */
function dueAppealIds(ctx: Ctx, now: number, accountId?: string) {
	let query = ctx.db.selectFrom('appeals').select('id').where(dueRebinds(now));
	if (accountId !== undefined) query = query.where('account_id', '=', accountId);
	return query.execute();
}

/** Every due rebind of one account (its row says when one is due: nothing is read otherwise). */
async function applyDueRebindsForAccount(ctx: Ctx, accountId: string): Promise<number> {
	const due = await dueAppealIds(ctx, ctx.clock.now().getTime(), accountId);
	let applied = 0;
	for (const { id } of due) if (await applyDueRebind(ctx, id)) applied += 1;
	return applied;
}

/**
 * §8a on read: the account found by `identifier` after every rebind that was due for it. Called
 * by `findAccountByIdentifier` only when the account row says a rebind is due, or when nothing is
 * bound to the identifier (it may be the new contact of a held appeal: a small partial index).
 */
export async function settleDueRebinds(
	ctx: Ctx,
	identifier: Identifier,
	account: Account | undefined
): Promise<boolean> {
	const now = ctx.clock.now().getTime();
	if (account) {
		if (account.rebind_due_at === null || Number(account.rebind_due_at) > now) return false;
		return (await applyDueRebindsForAccount(ctx, account.id)) > 0;
	}
	const held = await ctx.db
		.selectFrom('appeals')
		.select('id')
		.where('new_identifier', '=', identifier.value)
		.where(dueRebinds(now))
		.execute();
	let applied = false;
	for (const { id } of held) if (await applyDueRebind(ctx, id)) applied = true;
	return applied;
}

// ---------------------------------------------------------------------------------------------
// The job: due rebinds and the daily reminders.

/** One pass of the job: every due rebind, then every reminder that is due (§8a). */
export async function runRecoveryJobs(ctx: Ctx): Promise<{ rebound: number; reminded: number }> {
	const now = ctx.clock.now().getTime();
	const due = await dueAppealIds(ctx, now);
	let rebound = 0;
	for (const { id } of due) if (await applyDueRebind(ctx, id)) rebound += 1;

	const remind = await ctx.db
		.selectFrom('appeals')
		.select(['id', 'reminded_at'])
		.where('rebind_due_at', '>', now)
		.where('status', '=', 'approved')
		.where('rebound_at', 'is', null)
		.where((eb) =>
			eb.or([
				eb('reminded_at', 'is', null),
				eb('reminded_at', '<=', now - RECOVERY_REMINDER_EVERY_MS)
			])
		)
		.execute();
	let reminded = 0;
	for (const { id, reminded_at } of remind) {
		if (await sendReminder(ctx, id, reminded_at, now)) reminded += 1;
	}
	return { rebound, reminded };
}

/** One reminder, claimed like the rebind (`reminded_at` as read), so instances send it once. */
async function sendReminder(
	ctx: Ctx,
	appealId: string,
	read: number | null,
	now: number
): Promise<boolean> {
	return ctx.db.transaction().execute(async (trx) => {
		const claimed = await trx
			.updateTable('appeals')
			.set({ reminded_at: now })
			.where('id', '=', appealId)
			.where((eb) => (read === null ? eb('reminded_at', 'is', null) : eb('reminded_at', '=', read)))
			.where('status', '=', 'approved')
			.where('rebound_at', 'is', null)
			.where('rebind_due_at', '>', now)
			.executeTakeFirst();
		if (claimed.numUpdatedRows === 0n) return false;
		const row = await trx
			.selectFrom('appeals')
			.innerJoin('accounts', 'accounts.id', 'appeals.account_id')
			.select([
				'appeals.id',
				'appeals.account_id',
				'appeals.new_identifier',
				'appeals.rebind_due_at',
				'accounts.email',
				'accounts.phone',
				'accounts.locale'
			])
			.where('appeals.id', '=', appealId)
			.executeTakeFirst();
		if (!row?.account_id || row.rebind_due_at === null) return false;
		const sent = await remindHeldRecovery(
			{ ...ctx, db: trx },
			{
				id: row.id,
				account_id: row.account_id,
				new_identifier: row.new_identifier,
				rebind_due_at: Number(row.rebind_due_at)
			},
			row
		);
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: 'system',
				actorId: null,
				action: 'appeal.recovery_reminded',
				subjectKind: 'appeal',
				subjectId: appealId,
				details: { contacts: sent }
			}
		);
		return true;
	});
}

/**
 * The job in this process: at least every 5 minutes (every minute here), beside retention, safe
 * with many instances (every step is claimed by a conditional update). Stopped on close.
 */
export function startRecoveryJobs(
	ctx: Ctx,
	options: { intervalMs?: number } = {}
): { stop(): Promise<void> } {
	let running: Promise<unknown> | null = null;
	let stopped = false;
	const run = () => {
		if (running || stopped) return;
		running = runRecoveryJobs(ctx)
			.catch((error: unknown) =>
				log.error({ event: 'recovery.job_failed', message: (error as Error)?.message })
			)
			.finally(() => {
				running = null;
			});
	};
	const every = setInterval(run, options.intervalMs ?? RECOVERY_JOB_INTERVAL_MS);
	every.unref();
	return {
		async stop() {
			stopped = true;
			clearInterval(every);
			await running;
		}
	};
}

// ---------------------------------------------------------------------------------------------
// Cancelling: by a link, or by the signed-in owner.

type Stoppable = {
	id: string;
	account_id: string | null;
	reference: string;
	new_identifier: string;
	locale: string;
};

/**
 * Stops the appeal if it still can be (the conditional update is the claim: against the rebind's
 * claim exactly one wins). Then the account's hold is recomputed, the appeal's links end, the
 * person who filed hears that the account's current holder stopped it, and it is audited.
 */
async function stopAppeal(
	tx: Ctx,
	appeal: Stoppable,
	by: 'link' | 'owner',
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<boolean> {
	const now = tx.clock.now().getTime();
	const stopped = await tx.db
		.updateTable('appeals')
		.set({
			status: 'cancelled',
			cancelled_at: now,
			cancelled_by: by,
			// Closed for retention (documents, the appeal itself) from now.
			decided_at: now,
			updated_at: now
		})
		.where('id', '=', appeal.id)
		.where(stoppable(now))
		.executeTakeFirst();
	if (stopped.numUpdatedRows === 0n) return false;
	if (appeal.account_id) await refreshAccountRebindDue(tx, appeal.account_id);
	await tx.db
		.updateTable('recovery_cancel_tokens')
		.set({ expires_at: now })
		.where('appeal_id', '=', appeal.id)
		.where('expires_at', '>', now)
		.execute();
	const next = parseIdentifier(appeal.new_identifier);
	if (next.ok)
		await enqueueMessage(
			tx,
			appealCancelledMessage(next.identifier, asLocale(appeal.locale), {
				reference: appeal.reference,
				origin: tx.config.origin
			})
		);
	const actor =
		by === 'owner'
			? { actorKind: 'account' as const, actorId: appeal.account_id }
			: { actorKind: 'anonymous' as const, actorId: null };
	await audit(tx, {
		...actor,
		action: 'appeal.cancelled',
		subjectKind: 'appeal',
		subjectId: appeal.id,
		ip: meta.ip,
		details: { by }
	});
	if (appeal.account_id)
		await audit(tx, {
			...actor,
			action: 'account.recovery_cancelled',
			subjectKind: 'account',
			subjectId: appeal.account_id,
			ip: meta.ip,
			details: { by, reference: appeal.reference, ipCountry: meta.ipCountry }
		});
	return true;
}

/** The link's token as `newToken` makes it: 32 characters of lower-case base32. */

/**
 * §8a: `POST /api/v1/recovery/cancel` and the page's button. A token unknown, used or malformed is
 * `link_invalid`; one past its time, or whose appeal is closed, rebound or past its hold, is
 * `link_expired`. The answer names nothing. R24: only refused links count against the client's
 * network (20 an hour, then `429`): a live link of 160 random bits always works, so a thief who
 * spends the budget of the owner's network (shared Wi-Fi, carrier NAT) cannot stop the owner's click.
 */
export async function cancelRecoveryByLink(
	ctx: Ctx,
	input: { token: string },
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<{ ok: true } | Failure> {
	const refused = (answer: Failure) =>
		refusedFromNetwork(ctx, 'recovery-cancel', meta.ip, RECOVERY_CANCELS_PER_IP, answer);
	if (!isToken(input.token)) return refused(linkInvalid());
	const id = hashToken(input.token);
	const now = ctx.clock.now().getTime();
	const result = await ctx.db.transaction().execute(async (trx) => {
		const row = await trx
			.selectFrom('recovery_cancel_tokens')
			.innerJoin('appeals', 'appeals.id', 'recovery_cancel_tokens.appeal_id')
			.select([
				'recovery_cancel_tokens.expires_at as link_expires_at',
				'appeals.id',
				'appeals.account_id',
				'appeals.reference',
				'appeals.new_identifier',
				'appeals.locale'
			])
			.where('recovery_cancel_tokens.id', '=', id)
			.where('recovery_cancel_tokens.used_at', 'is', null)
			.executeTakeFirst();
		if (!row) return linkInvalid();
		if (now >= Number(row.link_expires_at)) return linkExpired();
		const used = await trx
			.updateTable('recovery_cancel_tokens')
			.set({ used_at: now })
			.where('id', '=', id)
			.where('used_at', 'is', null)
			.executeTakeFirst();
		if (used.numUpdatedRows === 0n) return linkInvalid();
		const stopped = await stopAppeal({ ...ctx, db: trx }, row, 'link', meta);
		return stopped ? { ok: true as const, accountId: row.account_id } : linkExpired();
	});
	if (result.ok) return { ok: true };
	// A link refused because the hold is over: the rebind happens now, not at the job's next pass.
	if (result.code === 'link_expired') await runDueForToken(ctx, id);
	return refused(result);
}

async function runDueForToken(ctx: Ctx, tokenId: string): Promise<void> {
	const row = await ctx.db
		.selectFrom('recovery_cancel_tokens')
		.select('account_id')
		.where('id', '=', tokenId)
		.executeTakeFirst();
	if (row) await applyDueRebindsForAccount(ctx, row.account_id);
}

/** The appeals an owner may stop now: open ones, and approved ones still in their hold. */
async function stoppableAppeals(ctx: Ctx, accountId: string) {
	const now = ctx.clock.now().getTime();
	return ctx.db
		.selectFrom('appeals')
		.select([
			'id',
			'account_id',
			'reference',
			'status',
			'new_identifier',
			'locale',
			'rebind_due_at',
			'created_at'
		])
		.where('account_id', '=', accountId)
		.where(stoppable(now))
		.orderBy('created_at', 'desc')
		.execute();
}

/**
 * §8a: the signed-in owner stops every recovery pending for the account, with the current
 * password (a stolen session alone cannot keep an appeal from the real owner, nor stop one).
 */
export async function cancelRecoveryByOwner(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string },
	meta: Pick<RequestMeta, 'ip' | 'ipCountry'>
): Promise<{ ok: true; cancelled: number } | Failure> {
	const pending = await stoppableAppeals(ctx, account.id);
	if (pending.length === 0) {
		await applyDueRebindsForAccount(ctx, account.id);
		return nothingPending();
	}
	const wrong = await confirmCurrentPassword(
		ctx,
		account,
		input.currentPassword,
		'recovery-cancel'
	);
	if (wrong) return wrong;
	let cancelled = 0;
	await ctx.db.transaction().execute(async (trx) => {
		for (const appeal of pending)
			if (await stopAppeal({ ...ctx, db: trx }, appeal, 'owner', meta)) cancelled += 1;
	});
	return cancelled > 0 ? { ok: true, cancelled } : nothingPending();
}

/**
 * §8a: what the owner is shown, the appeal to act on first (a held approval, else the newest open
 * one), or null; a due rebind is applied first.
 */
export async function pendingRecovery(
	ctx: Ctx,
	account: Pick<Account, 'id' | 'rebind_due_at'>
): Promise<PendingRecovery | null> {
	const now = ctx.clock.now().getTime();
	if (account.rebind_due_at !== null && Number(account.rebind_due_at) <= now)
		await applyDueRebindsForAccount(ctx, account.id);
	const pending = await stoppableAppeals(ctx, account.id);
	// A held approval first (it has a date), then the newest open appeal.
	const first = pending.find((a) => a.status === 'approved') ?? pending[0];
	if (!first) return null;
	const next = parseIdentifier(first.new_identifier);
	return {
		reference: first.reference,
		status: first.status as PendingRecovery['status'],
		newContact: next.ok ? maskIdentifier(next.identifier) : '***',
		effectiveAt:
			first.status === 'approved' && first.rebind_due_at !== null
				? new Date(Number(first.rebind_due_at)).toISOString()
				: null
	};
}
