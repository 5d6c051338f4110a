import { sql } from 'kysely';
import type { Ctx } from '../core/context';
import { audit, type AuditEntry } from '../core/audit';
import {
	boundContacts,
	maskIdentifier,
	parseIdentifier,
	type Identifier
} from '../core/identifiers';
import { invalidateAccountSessions } from '../accounts';
import { isUniqueViolationOf } from '../db/errors';
import { revokePendingCodes } from '../messaging';

/**
 * R16/R17/R21: the one place a bound contact is replaced — the owner's confirmed change and an
 * approved appeal's rebind (at once, or when §8a's hold ends). It runs inside the caller's
 * transaction, after the caller's own gate (the owner's quota and code; the appeal's
 * compare-and-set and hold), and leaves the notices to the caller: the two paths tell people
 * different things. The effects are the same whoever calls.
 */

/** R3: the new contact is another account's. Thrown, so the caller's transaction rolls back. */
export class ContactTaken extends Error {}

/** R3: the unique indexes that keep one account per contact (migration 0001). */
const CONTACT_INDEXES = [
	{ name: 'accounts_email_key', table: 'accounts', column: 'email' },
	{ name: 'accounts_phone_key', table: 'accounts', column: 'phone' }
];

/**
 * R3, the caller's answer after its transaction: the conflict `rebindContact` found, or one that
 * raced in between and met an account contact's unique index (`identifier_taken` on every path).
 * Any other unique violation is a fault, not a taken contact.
 */
export function isContactTaken(error: unknown): boolean {
	return (
		error instanceof ContactTaken ||
		CONTACT_INDEXES.some((index) => isUniqueViolationOf(error, index))
	);
}

/** R3: whether an account other than `accountId` has `contact` bound. */
export async function heldByAnotherAccount(
	ctx: Ctx,
	contact: Identifier,
	accountId: string
): Promise<boolean> {
	const holder = await ctx.db
		.selectFrom('accounts')
		.select('id')
		.where(contact.kind, '=', contact.value)
		.where('id', '!=', accountId)
		.executeTakeFirst();
	return holder !== undefined;
}

/** That a transaction holds an account's row lock; made only by `lockAccountRow`. */
class AccountRowLock {
	constructor(
		readonly accountId: string,
		readonly db: Ctx['db']
	) {}
}
export type { AccountRowLock };

/**
 * The account's row, locked until `ctx`'s transaction ends (PostgreSQL: every read of the account
 * after this is the one its write lands on, and a concurrent change of the account waits; SQLite
 * runs one write transaction at a time).
 */
export async function lockAccountRow(ctx: Ctx, accountId: string): Promise<AccountRowLock> {
	if (ctx.dialect === 'postgres')
		await sql`select id from accounts where id = ${accountId} for update`.execute(ctx.db);
	return new AccountRowLock(accountId, ctx.db);
}

type Bound = { email: string | null; phone: string | null };

/**
 * R16/R21: an account is bound to one contact. The new one replaces the contact the caller names
 * if it is still bound (an appeal's lost contact), else the bound one of its kind, else the only
 * one bound (an email can be swapped for a phone number, and the other way round).
 */
function replacedContact(bound: Bound, next: Identifier, named?: string): Identifier | null {
	const contacts = boundContacts(bound);
	return (
		contacts.find((contact) => contact.value === named) ??
		contacts.find((contact) => contact.kind === next.kind) ??
		(contacts.length === 1 ? contacts[0]! : null)
	);
}

export interface RebindInput {
	accountId: string;
	/** The new contact, already proved by a code (R16's change code, R19's appeal code). */
	next: Identifier;
	/** R16 `owner` or R21 `appeal`: the history row's kind (both count in R16's window). */
	kind: 'owner' | 'appeal';
	/**
	 * R21: the contact the appeal names as lost; replaced if still bound, and its codes die unless
	 * another account has bound it since the filing (R3: then they are that account's).
	 */
	lost?: string;
	/** R17: the owner's own session stays; R21 ends every session (none kept). */
	keepSessionId?: string | null;
	/**
	 * The account's row lock, when the caller took it in this same transaction before reads of its
	 * own (R16: the owner's quota); then it is not taken again.
	 */
	locked?: AccountRowLock;
	/** Who did it; `details` are added to the masked from and to (R4: never whole identifiers). */
	actor: Pick<AuditEntry, 'actorKind' | 'actorId' | 'ip' | 'details'>;
}

export interface Rebound {
	/** The contact that was bound and now is not (null only for an account with none bound). */
	replaced: Identifier | null;
	/**
	 * Every contact the account no longer has, whose pending codes died here: each one it had
	 * bound (both, for an account left bound to an email and a phone), and the appeal's lost
	 * contact when no account has it now. R21 tells each of them.
	 */
	revoked: Identifier[];
	changeId: string;
}

/**
 * The effects, in order: the account row locked unless the caller holds the lock (PostgreSQL: every caller's read of the contacts
 * below is then the one its write lands on; SQLite runs one write transaction at a time), the new
 * contact is free (R3), the replaced contact is picked, the account row updated, the change written to `contact_changes` (R16's window), the sessions ended (R17,
 * R21), every pending code of the account and of each contact it no longer has revoked (R17/R18),
 * and the change audited. Throws `ContactTaken` (or the driver's unique violation, when another
 * account took the contact meanwhile): see `isContactTaken`.
 */
export async function rebindContact(ctx: Ctx, input: RebindInput): Promise<Rebound> {
	const { accountId, next } = input;
	// R16/R21: a concurrent change of the same account (the owner's during a held appeal's rebind)
	// waits for this one and then meets R16's 7 days; without the lock an update read before the
	// other's commit would land on top of it and leave both new contacts bound.
	const { locked } = input;
	const held =
		locked instanceof AccountRowLock && locked.accountId === accountId && locked.db === ctx.db;
	if (!held) await lockAccountRow(ctx, accountId);
	// R3: another account's contact is never bound here; the unique index backs this up.
	if (await heldByAnotherAccount(ctx, next, accountId)) throw new ContactTaken();
	const before = await ctx.db
		.selectFrom('accounts')
		.select(['email', 'phone'])
		.where('id', '=', accountId)
		.executeTakeFirstOrThrow();
	const replaced = replacedContact(before, next, input.lost);
	const contact: Partial<Bound> = {
		...(replaced && replaced.kind !== next.kind ? { [replaced.kind]: null } : {}),
		[next.kind]: next.value
	};
	await ctx.db.updateTable('accounts').set(contact).where('id', '=', accountId).execute();
	const changeId = crypto.randomUUID();
	await ctx.db
		.insertInto('contact_changes')
		.values({
			id: changeId,
			account_id: accountId,
			kind: input.kind,
			// R21: an appeal's history names the contact it said was lost.
			old_identifier: input.lost ?? replaced?.value ?? '',
			new_identifier: next.value,
			changed_at: ctx.clock.now().getTime()
		})
		.execute();
	await invalidateAccountSessions(ctx, accountId, input.keepSessionId ?? undefined);
	// R17/R18/R21: codes still out to a contact the account no longer has (a reset, a check) die
	// with the change, and so does every code of the account itself.
	const revoked = await revokedContacts(ctx, before, { ...before, ...contact }, input);
	await revokePendingCodes(ctx, {
		accountId,
		identifiers: revoked.map((gone) => gone.value)
	});
	await audit(ctx, {
		...input.actor,
		action: input.kind === 'owner' ? 'account.contact_changed' : 'account.contact_rebound',
		subjectKind: 'account',
		subjectId: accountId,
		details: {
			from: replaced ? maskIdentifier(replaced) : null,
			to: maskIdentifier(next),
			...input.actor.details
		}
	});
	return { replaced, revoked, changeId };
}

/**
 * `Rebound.revoked`: the contacts bound `before` and not `after`, and the appeal's lost contact
 * unless the account still has it or another account has bound it since (R3: its codes and its
 * messages are that account's now).
 */
async function revokedContacts(
	ctx: Ctx,
	before: Bound,
	after: Bound,
	input: RebindInput
): Promise<Identifier[]> {
	const stillBound = (contact: Identifier) =>
		contact.value === after.email || contact.value === after.phone;
	const unbound = boundContacts(before).filter((contact) => !stillBound(contact));
	const lost = input.lost === undefined ? undefined : parseIdentifier(input.lost);
	if (!lost?.ok) return unbound;
	const named = lost.identifier;
	if (stillBound(named) || unbound.some((contact) => contact.value === named.value)) return unbound;
	if (await heldByAnotherAccount(ctx, named, input.accountId)) return unbound;
	return [...unbound, named];
}
