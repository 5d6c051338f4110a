import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import type { Agent } from '../support';
import { appealNoticeMessage } from './messages';
import { remindHeldRecovery } from './recovery-notices';
import { appealHeldMessage } from '../messaging';
import { audit } from '../core/audit';
import type { Db } from '../db/database';
import type { AppealStatus, Database } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier, type Identifier } from '../core/identifiers';
import { asLocale, enqueueMessage } from '../messaging';
import { heldByAnotherAccount, isContactTaken, rebindContact } from '../contact-change';
import { turnOffTwoStep } from '../two-step';
import { keepAccount } from '../data-rights';

type Meta = { ip: string };

export type Decision =
	{ kind: 'approve' } | { kind: 'reject'; reason: string } | { kind: 'needs_info'; reason: string };

const notFound = () => failure(404, 'appeal_not_found', m.error_appeal_not_found());
const decided = () => failure(409, 'appeal_decided', m.support_error_decided());
const wrongStatus = () => failure(409, 'appeal_wrong_status', m.support_error_wrong_status());

/** Decided or stopped: nothing more happens to the appeal through the console. */
const isClosed = (status: AppealStatus) =>
	status === 'approved' || status === 'rejected' || status === 'cancelled';

async function loadAppeal(db: Db, id: string) {
	return db.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Every state change of an appeal is a compare-and-set on what its caller read (status, claim,
 * first approval), never a write-back of it: this is the "still as I read it" condition for a
 * nullable column.
 */
function unchanged(column: 'assigned_agent_id' | 'first_approval_by', read: string | null) {
	return (eb: ExpressionBuilder<Database, 'appeals'>) =>
		read === null ? eb(column, 'is', null) : eb(column, '=', read);
}

/** The 409 for a compare-and-set that lost: `appeal_decided` when a decision landed meanwhile. */
async function lostRace(db: Db, id: string, otherwise: () => Failure): Promise<Failure> {
	const now = await loadAppeal(db, id);
	if (!now) return notFound();
	return isClosed(now.status) ? decided() : otherwise();
}

/**
 * R20: an agent claims an appeal before working it, so two agents never work one unknowingly.
 * Taking over someone else's claim is explicit and audited.
 */
export async function claimAppeal(
	ctx: Ctx,
	agent: Agent,
	appealId: string,
	options: { takeOver: boolean },
	meta: Meta
): Promise<{ ok: true } | Failure> {
	const { db } = ctx;
	const row = await loadAppeal(db, appealId);
	if (!row) return notFound();
	if (isClosed(row.status)) return decided();
	if (row.assigned_agent_id === agent.id) return { ok: true };
	if (row.assigned_agent_id && !options.takeOver) {
		const holder = await db
			.selectFrom('agents')
			.select('username')
			.where('id', '=', row.assigned_agent_id)
			.executeTakeFirst();
		return failure(
			409,
			'appeal_claimed',
			m.support_error_claimed({ agent: holder?.username ?? '?' })
		);
	}
	if (!(await assignIfUnchanged(ctx, row, agent.id)))
		return lostRace(db, appealId, () =>
			failure(409, 'appeal_claimed', m.support_error_claimed({ agent: '?' }))
		);
	await audit(ctx, {
		actorKind: agent.role,
		actorId: agent.id,
		action: row.assigned_agent_id ? 'appeal.taken_over' : 'appeal.claimed',
		subjectKind: 'appeal',
		subjectId: appealId,
		ip: meta.ip,
		details: row.assigned_agent_id ? { fromAgentId: row.assigned_agent_id } : undefined
	});
	return { ok: true };
}

/**
 * Admins hand an appeal to a named agent. R21: conditional on the status and claim it read, so an
 * approval (or the person's answer, R19) landing in between is never written over.
 */
export async function assignAppeal(
	ctx: Ctx,
	admin: Agent,
	appealId: string,
	agentId: string,
	meta: Meta
): Promise<{ ok: true } | Failure> {
	if (admin.role !== 'admin') return failure(403, 'forbidden', m.support_error_forbidden());
	const { db } = ctx;
	const row = await loadAppeal(db, appealId);
	if (!row) return notFound();
	if (isClosed(row.status)) return decided();
	const target = await db
		.selectFrom('agents')
		.select('id')
		.where('id', '=', agentId)
		.where('disabled_at', 'is', null)
		.executeTakeFirst();
	if (!target)
		return failure(400, 'invalid_request', m.error_invalid_request(), { field: 'agentId' });
	if (!(await assignIfUnchanged(ctx, row, target.id))) return lostRace(db, appealId, wrongStatus);
	await audit(ctx, {
		actorKind: 'admin',
		actorId: admin.id,
		action: 'appeal.assigned',
		subjectKind: 'appeal',
		subjectId: appealId,
		ip: meta.ip,
		details: { toAgentId: target.id }
	});
	return { ok: true };
}

/**
 * R21/R22: gives the appeal to `agentId` (a submitted one goes into review), only if nobody
 * changed its holder or status since `row` was read; false when somebody did.
 */
async function assignIfUnchanged(
	ctx: Ctx,
	row: { id: string; status: AppealStatus; assigned_agent_id: string | null },
	agentId: string
): Promise<boolean> {
	const now = ctx.clock.now().getTime();
	const assigned = await ctx.db
		.updateTable('appeals')
		.set({
			assigned_agent_id: agentId,
			claimed_at: now,
			updated_at: now,
			status: row.status === 'submitted' ? 'in_review' : row.status
		})
		.where('id', '=', row.id)
		.where('status', '=', row.status)
		.where(unchanged('assigned_agent_id', row.assigned_agent_id))
		.executeTakeFirst();
	return assigned.numUpdatedRows > 0n;
}

/**
 * R21: approve (rebind, after the hold of §8a), reject with a reason, or ask for more information with a reason. Only
 * the agent holding the claim decides; every state change is a conditional update, so two
 * decisions cannot both land.
 */
export async function decideAppeal(
	ctx: Ctx,
	agent: Agent,
	appealId: string,
	decision: Decision,
	meta: Meta
): Promise<
	| { ok: true; outcome: 'approved' | 'awaiting_second_approval' | 'rejected' | 'needs_info' }
	| Failure
> {
	const { db } = ctx;
	const row = await loadAppeal(db, appealId);
	if (!row) return notFound();
	if (isClosed(row.status)) return decided();
	if (row.assigned_agent_id !== agent.id)
		return failure(409, 'appeal_not_claimed', m.support_error_not_claimed());
	const newId = parseIdentifier(row.new_identifier);
	if (!newId.ok) return failure(500, 'invalid_state', m.error_unavailable());
	const locale = asLocale(row.locale);
	const now = ctx.clock.now().getTime();
	const actor = {
		actorKind: agent.role,
		actorId: agent.id,
		subjectKind: 'appeal',
		subjectId: appealId,
		ip: meta.ip
	} as const;

	if (decision.kind !== 'approve') {
		// Asking for more is for an appeal under review; a rejection can also end a wait.
		const from = decision.kind === 'needs_info' ? ['in_review'] : ['in_review', 'needs_info'];
		if (!from.includes(row.status)) return wrongStatus();
		const status = decision.kind === 'needs_info' ? ('needs_info' as const) : ('rejected' as const);
		const result = await db.transaction().execute(async (trx) => {
			const moved = await trx
				.updateTable('appeals')
				.set({
					status,
					updated_at: now,
					first_approval_by: null,
					first_approval_at: null,
					...(status === 'rejected'
						? { decided_at: now, decided_by: agent.id, decision_reason: decision.reason }
						: {})
				})
				.where('id', '=', appealId)
				// The status read, not any status it may leave from: a rejection aimed at a waiting
				// appeal must not land on the answer (R19) that arrived meanwhile.
				.where('status', '=', row.status)
				.where('assigned_agent_id', '=', agent.id)
				.executeTakeFirst();
			if (moved.numUpdatedRows === 0n) return null;
			// R21: the reason is what the person sees on the status page.
			await trx
				.insertInto('appeal_messages')
				.values({
					id: randomUUID(),
					appeal_id: appealId,
					author_kind: 'agent',
					author_id: agent.id,
					body: decision.reason,
					created_at: now
				})
				.execute();
			await enqueueMessage(
				{ ...ctx, db: trx },
				appealNoticeMessage(
					newId.identifier,
					status === 'rejected' ? 'rejected' : 'needs_info',
					row.reference,
					locale,
					{ origin: ctx.config.origin }
				)
			);
			await audit(
				{ ...ctx, db: trx },
				{ ...actor, action: status === 'rejected' ? 'appeal.rejected' : 'appeal.needs_info' }
			);
			return { ok: true as const, outcome: status };
		});
		return result ?? lostRace(db, appealId, wrongStatus);
	}

	if (row.status !== 'in_review') return wrongStatus();
	if (!row.account_id) return failure(409, 'appeal_no_account', m.support_error_no_account());
	// R3: the new contact must not belong to another account.
	if (await heldByAnotherAccount(ctx, newId.identifier, row.account_id))
		return failures.identifierTaken();

	if (ctx.config.appeals.requireSecondApproval && row.first_approval_by === null) {
		const marked = await db
			.updateTable('appeals')
			.set({ first_approval_by: agent.id, first_approval_at: now, updated_at: now })
			.where('id', '=', appealId)
			.where('first_approval_by', 'is', null)
			.where('status', '=', 'in_review')
			// Only the agent holding the claim decides, also when a take-over landed after the read.
			.where('assigned_agent_id', '=', agent.id)
			.executeTakeFirst();
		if (marked.numUpdatedRows === 0n) return lostRace(db, appealId, wrongStatus);
		await audit(ctx, { ...actor, action: 'appeal.first_approval' });
		return { ok: true, outcome: 'awaiting_second_approval' };
	}
	if (ctx.config.appeals.requireSecondApproval && row.first_approval_by === agent.id) {
		return failure(409, 'second_approver_required', m.support_error_second_approver());
	}
	return rebind(ctx, agent, row, newId.identifier, now, meta);
}

/**
 * R21 + §8a: the approval. With a hold (APPEAL_RECOVERY_HOLD_HOURS > 0) it only sets the moment
 * the rebind falls due and tells both sides: the contacts still bound get a fresh cancel link, the
 * person who filed gets the date. Nothing about the account changes until then (`recovery.ts`
 * applies it once). With no hold the rebind happens here, in the same transaction.
 */
async function rebind(
	ctx: Ctx,
	agent: Agent,
	row: NonNullable<Awaited<ReturnType<typeof loadAppeal>>>,
	next: Identifier,
	now: number,
	meta: Meta
): Promise<{ ok: true; outcome: 'approved' } | Failure> {
	const { db } = ctx;
	const accountId = row.account_id!;
	const hold = ctx.config.appeals.recoveryHoldMs;
	const dueAt = now + hold;
	try {
		const result = await db.transaction().execute(async (trx) => {
			const moved = await trx
				.updateTable('appeals')
				.set({
					status: 'approved',
					decided_at: now,
					decided_by: agent.id,
					updated_at: now,
					...(hold > 0 ? { rebind_due_at: dueAt, reminded_at: now } : { rebound_at: now })
				})
				.where('id', '=', row.id)
				.where('status', '=', 'in_review')
				.where('decided_at', 'is', null)
				.where('assigned_agent_id', '=', agent.id)
				// A needs-info round clears the first approval (new documents, new approvals): a second
				// approval read before it must not complete the fresh review alone.
				.where(unchanged('first_approval_by', row.first_approval_by))
				.executeTakeFirst();
			if (moved.numUpdatedRows === 0n) return null;
			const tx = { ...ctx, db: trx };
			await audit(tx, {
				actorKind: agent.role,
				actorId: agent.id,
				action: 'appeal.approved',
				subjectKind: 'appeal',
				subjectId: row.id,
				ip: meta.ip,
				details: {
					accountId,
					secondApprovalOf: row.first_approval_by,
					rebindDueAt: hold > 0 ? new Date(dueAt).toISOString() : null
				}
			});
			if (hold > 0) {
				await holdRebind(tx, { ...row, account_id: accountId, rebind_due_at: dueAt }, next);
				return { ok: true as const, outcome: 'approved' as const };
			}
			await applyRebind(tx, row, next, {
				actorKind: agent.role,
				actorId: agent.id,
				ip: meta.ip
			});
			return { ok: true as const, outcome: 'approved' as const };
		});
		return result ?? (await lostRace(db, row.id, wrongStatus));
	} catch (error) {
		// R3: another account took the contact between the check and the write.
		if (isContactTaken(error)) return failures.identifierTaken();
		throw error;
	}
}

/**
 * §8a: an approval waiting out its hold. The account row carries the due time, so the reads that
 * apply a due rebind cost nothing while none is due; links sent earlier stop at the hold's end at
 * the latest; the bound contacts get a fresh link and the date, the person who filed the date.
 */
async function holdRebind(
	tx: Ctx,
	row: {
		id: string;
		account_id: string;
		new_identifier: string;
		reference: string;
		locale: string;
		rebind_due_at: number;
	},
	next: Identifier
): Promise<void> {
	const due = row.rebind_due_at;
	await refreshAccountRebindDue(tx, row.account_id);
	await tx.db
		.updateTable('recovery_cancel_tokens')
		.set({ expires_at: due })
		.where('appeal_id', '=', row.id)
		.where('expires_at', '>', due)
		.execute();
	const account = await tx.db
		.selectFrom('accounts')
		.select(['email', 'phone', 'locale'])
		.where('id', '=', row.account_id)
		.executeTakeFirstOrThrow();
	await remindHeldRecovery(tx, row, account);
	await enqueueMessage(
		tx,
		appealHeldMessage(next, asLocale(row.locale), {
			reference: row.reference,
			effectiveAt: new Date(due),
			origin: tx.config.origin
		})
	);
}

/** §8a: the account's `rebind_due_at` is the earliest hold still waiting on it, or null. */
export async function refreshAccountRebindDue(tx: Ctx, accountId: string): Promise<void> {
	const next = await tx.db
		.selectFrom('appeals')
		.select((eb) => eb.fn.min<number | null>('rebind_due_at').as('due'))
		.where('account_id', '=', accountId)
		.where('status', '=', 'approved')
		.where('rebound_at', 'is', null)
		.where('rebind_due_at', 'is not', null)
		.executeTakeFirst();
	const due = next?.due === null || next?.due === undefined ? null : Number(next.due);
	await tx.db
		.updateTable('accounts')
		.set({ rebind_due_at: due })
		.where('id', '=', accountId)
		.execute();
}

/**
 * R21: the rebind itself, in the caller's transaction, after the caller claimed it (the approval
 * without a hold, or §8a's due claim): two-step off, then `rebindContact`'s effects (contact,
 * history, sessions, codes, audit), then the appeal's notices. Throws when the new contact was
 * taken meanwhile (`isContactTaken`), so the claim rolls back with it.
 */
export async function applyRebind(
	tx: Ctx,
	row: {
		id: string;
		account_id: string | null;
		old_identifier: string;
		reference: string;
		locale: string;
	},
	next: Identifier,
	actor: { actorKind: 'agent' | 'admin' | 'system'; actorId: string | null; ip: string | null }
): Promise<void> {
	const accountId = row.account_id!;
	const locale = asLocale(row.locale);
	// The person lost everything, the second factors too: two-step goes, and both notices
	// say so (a thief who won the appeal is then visible to the old contact). §8a: sessions and
	// two-step stay through the hold; they end here, with the rebind itself.
	const twoStepOff = await turnOffTwoStep(tx, accountId);
	// R21 → R16: an appeal change counts in the 180-day window; nothing here checks it. The lost
	// contact is replaced (unbound when the new one is of the other kind): the person no longer
	// controls it, and it must not keep opening the account.
	const { revoked } = await rebindContact(tx, {
		accountId,
		next,
		kind: 'appeal',
		lost: row.old_identifier,
		actor: { ...actor, details: { appealId: row.id, kind: next.kind, twoStepOff } }
	});
	await refreshAccountRebindDue(tx, accountId);
	// R28: a deletion the previous holder asked for does not bind the account's new holder.
	await keepAccount(tx, accountId, 'recovery', { ip: actor.ip, ipCountry: null });
	const options = { origin: tx.config.origin, twoStepOff };
	await enqueueMessage(
		tx,
		appealNoticeMessage(next, 'approved_new', row.reference, locale, options)
	);
	// R21: every old contact is told — each the account had bound until now (the one the owner
	// changed to after the filing; both, for an account left with an email and a phone) and the one
	// the appeal named, unless another account has bound it since (its holder is not this account's).
	for (const contact of revoked)
		await enqueueMessage(
			tx,
			appealNoticeMessage(contact, 'approved_old', row.reference, locale, options)
		);
	if (actor.actorKind === 'system')
		await audit(tx, {
			...actor,
			action: 'appeal.rebound',
			subjectKind: 'appeal',
			subjectId: row.id,
			details: { accountId, twoStepOff }
		});
}
