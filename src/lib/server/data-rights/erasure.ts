import { sql } from 'kysely';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { log } from '../core/log';
import { ERASED_DETAILS } from '../db/migrations/0020-data-rights';
import { accountErasedMessage, asLocale, enqueueMessage } from '../messaging';
import { boundContacts } from './deletion';

/**
 * R28: the erasure of an account whose deletion is due (docs/DATA.md says, table by table, what
 * goes and what stays). One transaction per account, so a failure leaves the account whole.
 *
 * Goes: the account row and everything that cascades from it (sessions, devices seen, codes,
 * contact changes, two-step factors, links); the appeals filed for it with their messages,
 * document rows and contents; codes, messages, check events and rate-limit counters of its
 * contacts; its webhook deliveries; its registering device when no other account came from it.
 * Stays, with nothing about the person: the audit rows (R22), reduced to what happened, when, and
 * the ids (`ip` null, `details` the erased marker — the only update the log's trigger allows).
 * Then one `account.erased` entry (R27: `account.deleted`), and a last message to each contact,
 * which the outbox keeps only until it is delivered plus OUTBOX_RETENTION_DAYS.
 */

const BATCH = 100;

/** Every account whose deletion is due at the context's clock; the number erased. */
export async function eraseDueAccounts(ctx: Ctx): Promise<number> {
	let erased = 0;
	for (;;) {
		const due = await ctx.db
			.selectFrom('accounts')
			.select('id')
			.where('deletion_due_at', '<=', ctx.clock.now().getTime())
			.limit(BATCH)
			.execute();
		for (const { id } of due) if (await eraseAccount(ctx, id)) erased += 1;
		if (due.length < BATCH) return erased;
	}
}

/**
 * Erases one account if its deletion is still due when its row is read under the lock (a cancel
 * that landed first wins; of two instances erasing at once, one finds nothing).
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
			.executeTakeFirst();
		if (!account) return false;
		const contacts = boundContacts(account).map((c) => c.value);
		const appealIds = (
			await trx.selectFrom('appeals').select('id').where('account_id', '=', accountId).execute()
		).map((r) => r.id);

		// The audit log keeps the rows, not what they said about the person.
		const subjects = [accountId, ...appealIds];
		await trx
			.updateTable('audit_events')
			.set({ ip: null, details: ERASED_DETAILS })
			.where((eb) => eb.or([eb('subject_id', 'in', subjects), eb('actor_id', '=', accountId)]))
			.where((eb) => eb.or([eb('details', 'is', null), eb('details', '!=', ERASED_DETAILS)]))
			.execute();

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
		// Counters named by the account's id or a contact's keyed hash.
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
