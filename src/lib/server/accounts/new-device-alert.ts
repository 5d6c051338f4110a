import { asLocale, enqueueMessage, newDeviceMessage, withAlertsPaused } from '../messaging';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import {
	describeCountry,
	describeDevice,
	deviceLabel,
	type RequestMeta
} from '../core/request-meta';
import type { Account } from '../db/schema';
import { boundContact } from './find';
import { issueSecureAccountLink } from './secure-account';
import { hit } from '../platform/limits';

/**
 * §7a alert cap: at most 3 new-device alerts per account in a window of an hour, which starts with
 * its first alert. Every browser without a device cookie is a new device, so without a cap whoever
 * has the password could send the owner's phone one SMS per sign-in (SMS pumping, the real alert
 * buried). Past the cap the sign-in still happens and is audited (`account.new_device_alert_held`)
 * but nothing is sent and no link is made; its device is not remembered, so its next sign-in
 * after the window alerts. The third alert says that more wait until the window ends.
 */
export const NEW_DEVICE_ALERT_CAP = { max: 3, windowMs: 60 * 60_000 };

/** Whether "this wasn't me" secured the account (read in the caller's transaction). */
async function securedBefore(ctx: Ctx, accountId: string): Promise<boolean> {
	const row = await ctx.db
		.selectFrom('accounts')
		.select('secured_at')
		.where('id', '=', accountId)
		.executeTakeFirst();
	return row?.secured_at != null;
}

/** §7a: the system's record of an alert sent or held, with where and on what the sign-in was. */
function auditAlert(
	tx: Ctx,
	action: 'account.new_device_alerted' | 'account.new_device_alert_held',
	accountId: string,
	meta: RequestMeta
): Promise<void> {
	return audit(tx, {
		actorKind: 'system',
		actorId: null,
		action,
		subjectKind: 'account',
		subjectId: accountId,
		ip: meta.ip,
		details: { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) }
	});
}

/**
 * Every session start (password sign-in, registration, and whatever second step
 * ends in `startSession`) records the device cookie against the account. A device the account
 * has not used before alerts the bound contact, once: the insert that adds the pair decides, so
 * two sign-ins racing from one new device send one alert. The account's first device (its
 * registration, or its first sign-in after migration 0009) is recorded without an alert; once
 * "this wasn't me" has secured the account (§7a) no device is a first one again.
 */
export async function noteSignInDevice(
	ctx: Ctx,
	account: Account,
	meta: RequestMeta & { origin: string | null }
): Promise<{ alerted: boolean }> {
	const now = ctx.clock.now().getTime();
	return ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const added = await trx
			.insertInto('account_devices')
			.values({
				account_id: account.id,
				device_id: meta.deviceId,
				first_seen_at: now,
				last_seen_at: now
			})
			.onConflict((oc) => oc.columns(['account_id', 'device_id']).doNothing())
			.executeTakeFirst();
		if (Number(added.numInsertedOrUpdatedRows ?? 0) === 0) {
			await trx
				.updateTable('account_devices')
				.set({ last_seen_at: now })
				.where('account_id', '=', account.id)
				.where('device_id', '=', meta.deviceId)
				.execute();
			return { alerted: false };
		}
		const others = await trx
			.selectFrom('account_devices')
			.select('device_id')
			.where('account_id', '=', account.id)
			.where('device_id', '!=', meta.deviceId)
			.limit(1)
			.executeTakeFirst();
		// §7a: after "this wasn't me" the account has no known device, yet no browser is its first.
		if (!others && !(await securedBefore(tx, account.id))) return { alerted: false };

		// §7a: counted in this transaction (a rollback takes the hit back).
		const window = await hit(
			tx,
			`new-device-alert:acct:${account.id}`,
			NEW_DEVICE_ALERT_CAP.windowMs
		);
		if (window.count > NEW_DEVICE_ALERT_CAP.max) {
			await trx
				.deleteFrom('account_devices')
				.where('account_id', '=', account.id)
				.where('device_id', '=', meta.deviceId)
				.execute();
			await auditAlert(tx, 'account.new_device_alert_held', account.id, meta);
			return { alerted: false };
		}

		const locale = asLocale(account.locale);
		const link = await issueSecureAccountLink(tx, account.id, meta.origin);
		const alert = newDeviceMessage(boundContact(account), locale, {
			at: new Date(now),
			country: describeCountry(meta.ipCountry, locale),
			device: describeDevice(meta.userAgent, locale),
			link
		});
		await enqueueMessage(
			tx,
			window.count === NEW_DEVICE_ALERT_CAP.max
				? withAlertsPaused(alert, locale, {
						count: NEW_DEVICE_ALERT_CAP.max,
						until: new Date(window.resetAt)
					})
				: alert
		);
		await auditAlert(tx, 'account.new_device_alerted', account.id, meta);
		return { alerted: true };
	});
}
