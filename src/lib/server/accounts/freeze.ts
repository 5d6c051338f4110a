import type { Ctx } from '../core/context';
import { audit, type AuditEntry } from '../core/audit';
import { failure, failures, type Failure } from '../core/failures';
import { boundContacts, parseIdentifier, type Identifier } from '../core/identifiers';
import type { Account } from '../db/schema';
import {
	accountFrozenMessage,
	asLocale,
	enqueueMessage,
	freezeLiftedMessage,
	revokePendingCodes
} from '../messaging';
import { invalidateAccountSessions } from './sessions';
import { keepAccount } from '../data-rights';
import { confirmCurrentPassword } from './current-password';
import { findAccountByIdentifier } from './find';
import { m } from '$lib/paraglide/messages';

/**
 * Rules §7b, the owner's freeze. Who froze it:
 * - `owner`: signed in, with the current password again;
 * - `contact`: proved control of a bound contact with a check code (R15a's grant);
 * - `link`: a "this wasn't me" link sent to a bound contact.
 * Who lifted it: a password reset finished with a code or link sent to a bound contact, or an
 * agent (audited, after a confirm step).
 */
export type FreezeBy = { kind: 'owner' } | { kind: 'contact' } | { kind: 'link' };
export type LiftBy =
	| { kind: 'reset'; via: 'code' | 'link' }
	| { kind: 'agent'; agentId: string; role: 'agent' | 'admin' };

export interface FreezeMeta {
	ip: string | null;
	ipCountry?: string | null;
}

export type FreezeResult = { ok: true; changed: boolean } | Failure;

/** Runs `work` in the caller's transaction when there is one, else in a new one. */
function inTransaction<T>(ctx: Ctx, work: (trx: Ctx) => Promise<T>): Promise<T> {
	return ctx.db.isTransaction
		? work(ctx)
		: ctx.db.transaction().execute((trx) => work({ ...ctx, db: trx }));
}

const notFound = () => failure(404, 'account_not_found', m.error_account_not_found());

/**
 * Sets (`frozenAt` a time) or clears (`null`) the freeze with a conditional update, which is the
 * idempotence: of parallel freezes (or lifts) only the first changes anything.
 */
async function switchFreeze(
	tx: Ctx,
	accountId: string,
	frozenAt: number | null
): Promise<{ ok: true; changed: false } | { ok: true; changed: true; account: Account } | Failure> {
	const switched = await tx.db
		.updateTable('accounts')
		.set({ frozen_at: frozenAt })
		.where('id', '=', accountId)
		.where('frozen_at', frozenAt === null ? 'is not' : 'is', null)
		.executeTakeFirst();
	const account = await tx.db
		.selectFrom('accounts')
		.selectAll()
		.where('id', '=', accountId)
		.executeTakeFirst();
	if (!account) return notFound();
	if (switched.numUpdatedRows === 0n) return { ok: true, changed: false };
	return { ok: true, changed: true, account };
}

/**
 * §7b: freeze. In one transaction: `frozen_at` is set, every session ends, every pending code of
 * the account or its contacts dies, every two-step sign-in half done dies, every bound contact
 * (email and phone) is told, and it is audited. Freezing a frozen account changes nothing and
 * sends nothing (`changed: false`).
 */
export function freezeAccount(
	ctx: Ctx,
	accountId: string,
	by: FreezeBy,
	meta: FreezeMeta
): Promise<FreezeResult> {
	return inTransaction(ctx, async (tx) => {
		const switched = await switchFreeze(tx, accountId, tx.clock.now().getTime());
		if (!switched.ok || !switched.changed) return switched;
		const { account } = switched;
		const contacts = boundContacts(account);
		// Sessions and half-finished two-step sign-ins end here, the credential epoch moves on.
		await invalidateAccountSessions(tx, account.id);
		await revokePendingCodes(tx, {
			accountId: account.id,
			identifiers: contacts.map((c) => c.value)
		});
		const locale = asLocale(account.locale);
		for (const contact of contacts)
			await enqueueMessage(tx, accountFrozenMessage(contact, locale, tx.config.origin));
		await auditFreeze(tx, 'account.frozen', { by, accountId: account.id, meta });
		// R28: one step stops everything, a deletion asked for with the account's password too.
		await keepAccount(tx, account.id, 'freeze', meta);
		return { ok: true as const, changed: true };
	});
}

/**
 * §7b: lift. Clears `frozen_at`, tells every bound contact, audits; lifting an account that is
 * not frozen changes nothing and sends nothing (`changed: false`).
 */
export function liftFreeze(
	ctx: Ctx,
	accountId: string,
	by: LiftBy,
	meta: FreezeMeta
): Promise<FreezeResult> {
	return inTransaction(ctx, async (tx) => {
		const switched = await switchFreeze(tx, accountId, null);
		if (!switched.ok || !switched.changed) return switched;
		const { account } = switched;
		const locale = asLocale(account.locale);
		for (const contact of boundContacts(account))
			await enqueueMessage(
				tx,
				freezeLiftedMessage(contact, locale, by.kind === 'agent' ? 'agent' : 'reset')
			);
		await auditFreeze(tx, 'account.freeze_lifted', {
			by,
			accountId: account.id,
			meta,
			how: by.kind === 'reset' ? { via: by.via } : {}
		});
		return { ok: true as const, changed: true };
	});
}

/** §7b: the audit of a freeze or a lift: who, from where, and (a lift by a reset) how. */
function auditFreeze(
	tx: Ctx,
	action: 'account.frozen' | 'account.freeze_lifted',
	change: { by: FreezeBy | LiftBy; accountId: string; meta: FreezeMeta; how?: { via?: string } }
): Promise<void> {
	const { by, accountId, meta } = change;
	return audit(tx, {
		...actor(by, accountId),
		action,
		subjectKind: 'account',
		subjectId: accountId,
		ip: meta.ip,
		details: { by: by.kind, ...change.how, ipCountry: meta.ipCountry ?? null }
	});
}

function actor(
	by: FreezeBy | LiftBy,
	accountId: string
): Pick<AuditEntry, 'actorKind' | 'actorId'> {
	switch (by.kind) {
		case 'agent':
			return { actorKind: by.role, actorId: by.agentId };
		case 'owner':
		case 'reset':
			return { actorKind: 'account', actorId: accountId };
		default:
			// Proof of a contact or a link in a message: nobody signed in.
			return { actorKind: 'anonymous', actorId: null };
	}
}

/** §7b from the account's security page or `POST /api/v1/account/freeze`: the password again. */
export async function freezeOwnAccount(
	ctx: Ctx,
	account: Account,
	currentPassword: string,
	meta: FreezeMeta
): Promise<FreezeResult> {
	const wrong = await confirmCurrentPassword(ctx, account, currentPassword, 'freeze');
	if (wrong) return wrong;
	return freezeAccount(ctx, account.id, { kind: 'owner' }, meta);
}

/**
 * §7b from the check page or `POST /api/v1/verifications/freeze`: whoever proved control of a
 * bound contact with a check code in this browser (R15a's grant, `proven`) may freeze its
 * account. Without the proof: 403 `verification_required`; proven but no account: 404.
 */
export async function freezeByContactProof(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	proven: (identifier: Identifier) => boolean,
	meta: FreezeMeta
): Promise<FreezeResult> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	if (!proven(parsed.identifier))
		return failure(403, 'verification_required', m.error_freeze_unproven());
	const account = await findAccountByIdentifier(ctx, parsed.identifier);
	if (!account) return failure(404, 'account_not_found', m.error_freeze_no_account());
	return freezeAccount(ctx, account.id, { kind: 'contact' }, meta);
}

/** §7b: an agent lifts a freeze from the support account page, only with `confirm=yes`. */
export async function agentLiftFreeze(
	ctx: Ctx,
	agent: { id: string; role: 'agent' | 'admin' },
	accountId: string,
	confirm: string | undefined,
	meta: FreezeMeta
): Promise<FreezeResult> {
	if (confirm !== 'yes')
		return failure(400, 'confirm_required', m.error_freeze_confirm(), { field: 'confirm' });
	return liftFreeze(ctx, accountId, { kind: 'agent', agentId: agent.id, role: agent.role }, meta);
}
