import { sql, type ExpressionBuilder } from 'kysely';
import { OPEN_APPEAL_STATUSES } from '$lib/types/account';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { log } from '../core/log';
import { ERASED_DETAILS } from '../db/migrations/0020-data-rights';
import type { Database } from '../db/schema';
import { accountErasedMessage, asLocale, enqueueMessage } from '../messaging';
import { intervalJob, type IntervalJob } from '../platform/interval-job';
import { boundContacts } from '../core/identifiers';

/**
 * R28: the erasure of an account whose deletion is due (docs/DATA.md, "Erasure", says table by
 * table what goes and what stays). One transaction per account, so a failure leaves it whole.
 *
 * Goes: the account row and everything that cascades from it; the appeals filed for it with their
 * messages, document rows and contents; codes, messages, check events and counters of its
 * contacts, the earlier ones too (unless another account holds them now); its webhook deliveries;
 * its registering device when no other account came from it. Stays, with nothing about the
 * person: the audit rows (R22), reduced to what happened, when, and the ids (`ip` null, `details`
 * the erased marker — the one update the log's triggers allow, and only once the account and its
 * appeals are gone). Then one `account.erased` entry (R27: `account.deleted`) and a last message
 * to each bound contact, kept like any message until delivered plus OUTBOX_RETENTION_DAYS.
 *
 * Not while a recovery is under way (R24): an account with an open appeal, or an approved one
 * waiting out its hold, is erased only once that appeal is decided, stopped or applied — an
 * applied rebind cancels the deletion (the account has a new holder, who did not ask for it).
 */

/** At most this many erasures per run; the job runs every minute. */
const BATCH = 200;
/** How often each instance looks for due deletions: a due account is usable at most this long. */
const ERASURE_EVERY_MS = 60_000;

/** An appeal that may still move the account to someone else (R24). */
const recoveryUnderWay = (eb: ExpressionBuilder<Database, 'accounts'>) =>
	eb.exists(
		eb
			.selectFrom('appeals')
			.select('appeals.id')
			.whereRef('appeals.account_id', '=', 'accounts.id')
			.where('appeals.rebound_at', 'is', null)
			.where((a) =>
				a.or([
					a('appeals.status', 'in', OPEN_APPEAL_STATUSES),
					a.and([a('appeals.status', '=', 'approved'), a('appeals.rebind_due_at', 'is not', null)])
				])
			)
	);

/** Every account whose deletion is due at the context's clock (up to BATCH); the number erased. */
export async function eraseDueAccounts(ctx: Ctx): Promise<number> {
	// R15: this process's check events still queued are stored first, so the erasure finds them.
	await ctx.writeBehind.flush();
	const due = await ctx.db
		.selectFrom('accounts')
		.select('id')
		.where('deletion_due_at', '<=', ctx.clock.now().getTime())
		.where((eb) => eb.not(recoveryUnderWay(eb)))
		.orderBy('deletion_due_at')
		.limit(BATCH)
		.execute();
	let erased = 0;
	for (const { id } of due) {
		// One account that fails (a lock timeout, a deadlock with a rebind) waits for the next run.
		try {
			if (await eraseAccount(ctx, id)) erased += 1;
		} catch (error) {
			log.error({
				event: 'account.erase_failed',
				accountId: id,
				message: (error as Error)?.message
			});
		}
	}
	return erased;
}

/** The contacts the account had before its current ones (R16 history), unless another account holds them now. */
async function earlierContacts(ctx: Ctx, accountId: string, current: string[]): Promise<string[]> {
	const changes = await ctx.db
		.selectFrom('contact_changes')
		.select(['old_identifier', 'new_identifier'])
		.where('account_id', '=', accountId)
		.execute();
	const earlier = [...new Set(changes.flatMap((c) => [c.old_identifier, c.new_identifier]))].filter(
		(value) => !current.includes(value)
	);
	if (earlier.length === 0) return [];
	const held = await ctx.db
		.selectFrom('accounts')
		.select(['email', 'phone'])
		.where((eb) => eb.or([eb('email', 'in', earlier), eb('phone', 'in', earlier)]))
		.execute();
	const taken = new Set(held.flatMap((a) => [a.email, a.phone]));
	return earlier.filter((value) => !taken.has(value));
}

/**
 * Erases one account if its deletion is still due when its row is read under the lock, and no
 * recovery is under way (a keep that landed first wins; of two instances erasing at once, one
 * finds nothing).
 */
export async function eraseAccount(ctx: Ctx, accountId: string): Promise<boolean> {
	const erased = await ctx.db.transaction().execute(async (trx) => {
		const tx: Ctx = { ...ctx, db: trx };
		if (ctx.dialect === 'postgres')
			await sql`select id from accounts where id = ${accountId} for update`.execute(trx);
		const account = await trx
			.selectFrom('accounts')
			.selectAll()
			.where('id', '=', accountId)
			.where('deletion_due_at', '<=', ctx.clock.now().getTime())
			.where((eb) => eb.not(recoveryUnderWay(eb)))
			.executeTakeFirst();
		if (!account) return false;
		const current = boundContacts(account).map((c) => c.value);
		const contacts = [...current, ...(await earlierContacts(tx, accountId, current))];
		const appealIds = (
			await trx.selectFrom('appeals').select('id').where('account_id', '=', accountId).execute()
		).map((r) => r.id);

		if (appealIds.length > 0) {
			const documents = trx
				.selectFrom('appeal_documents')
				.select('id')
				.where('appeal_id', 'in', appealIds);
			await trx
				.deleteFrom('appeal_document_contents')
				.where('document_id', 'in', documents)
				.execute();
			await trx.deleteFrom('appeal_documents').where('appeal_id', 'in', appealIds).execute();
			await trx.deleteFrom('appeal_messages').where('appeal_id', 'in', appealIds).execute();
			await trx.deleteFrom('appeals').where('id', 'in', appealIds).execute();
		}
		await trx.deleteFrom('webhook_deliveries').where('account_id', '=', accountId).execute();
		const identifierKeys = contacts.map((value) => ctx.keys.hmac('identifier', value));
		if (contacts.length > 0) {
			await trx.deleteFrom('verification_codes').where('identifier', 'in', contacts).execute();
			await trx.deleteFrom('outbox').where('recipient', 'in', contacts).execute();
			await trx.deleteFrom('check_events').where('identifier_key', 'in', identifierKeys).execute();
		}
		// Counters named by the account's id (a UUID) or a contact's keyed hash (hex): no wildcards.
		for (const part of [accountId, ...identifierKeys])
			await trx.deleteFrom('rate_limits').where('key', 'like', `%${part}%`).execute();

		await trx.deleteFrom('accounts').where('id', '=', accountId).execute();
		if (account.reg_device_id !== null)
			await trx
				.deleteFrom('devices')
				.where('id', '=', account.reg_device_id)
				.where(({ not, exists, selectFrom }) =>
					not(
						exists(
							selectFrom('accounts')
								.select('accounts.id')
								.whereRef('accounts.reg_device_id', '=', 'devices.id')
						)
					)
				)
				.execute();

		// The audit log keeps the rows, not what they said about the person. The triggers allow
		// this only now that the account and its appeals are gone.
		await trx
			.updateTable('audit_events')
			.set({ ip: null, details: ERASED_DETAILS })
			.where((eb) =>
				eb.or([
					eb.and([eb('subject_kind', '=', 'account'), eb('subject_id', '=', accountId)]),
					eb.and([eb('actor_kind', '=', 'account'), eb('actor_id', '=', accountId)]),
					...(appealIds.length > 0
						? [eb.and([eb('subject_kind', '=', 'appeal'), eb('subject_id', 'in', appealIds)])]
						: [])
				])
			)
			.where((eb) => eb.or([eb('details', 'is', null), eb('details', '!=', ERASED_DETAILS)]))
			.execute();

		await audit(tx, {
			actorKind: 'system',
			actorId: null,
			action: 'account.erased',
			subjectKind: 'account',
			subjectId: accountId
		});
		const locale = asLocale(account.locale);
		for (const to of boundContacts(account))
			await enqueueMessage(tx, accountErasedMessage(to, locale));
		return true;
	});
	if (erased) log.info({ event: 'account.erased', accountId });
	return erased;
}

/** R28: every instance erases due accounts every minute (the erasure's claim makes it once). */
export function startErasureJob(ctx: Ctx): IntervalJob {
	const job = intervalJob(
		() => eraseDueAccounts(ctx),
		(error) => log.error({ event: 'erasure.failed', message: (error as Error)?.message })
	);
	job.start(ERASURE_EVERY_MS);
	return job;
}
