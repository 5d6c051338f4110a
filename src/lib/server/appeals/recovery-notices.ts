import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { describeCountry } from '../core/request-meta';
import { boundContacts, maskStoredIdentifier } from '../core/identifiers';
import { hashToken, newToken } from '../core/tokens';
import { asLocale, enqueueMessage } from '../messaging';
import { recoveryCancelLink, recoveryFiledMessage, recoveryHeldMessage } from '../messaging';

/**
 * Rules §8a: the notices to the contacts bound to an account an appeal was filed for, each with a
 * cancel link of its own. The link's token is 160 random bits (`newToken`); only its SHA-256 is
 * stored. Links are built on the configured ORIGIN, never on a request's Host.
 */

/**
 * How long a link sent at filing may work at most, before any decision: an appeal decided later
 * (a needs-info round) can still be stopped by the signed-in owner, and the hold's daily reminders
 * bring fresh links. Also refused as soon as the appeal is closed or its hold is over.
 */
const RECOVERY_LINK_MAX_MS = 14 * 86_400_000;

/** The reminders during the hold come this often (§8a). */
export const RECOVERY_REMINDER_EVERY_MS = 24 * 3_600_000;

/** A new single-use cancel link for the appeal; only its hash is stored. */
async function issueCancelLink(
	ctx: Ctx,
	appeal: { id: string; account_id: string },
	expiresAt: number
): Promise<string> {
	const token = newToken();
	await ctx.db
		.insertInto('recovery_cancel_tokens')
		.values({
			id: hashToken(token),
			appeal_id: appeal.id,
			account_id: appeal.account_id,
			created_at: ctx.clock.now().getTime(),
			expires_at: expiresAt,
			used_at: null
		})
		.execute();
	return recoveryCancelLink(ctx.config.origin, token);
}

/** §8a: at filing, to every contact bound to the account at that moment (the lost one included). */
export async function announceAppeal(
	ctx: Ctx,
	appeal: {
		id: string;
		account_id: string;
		new_identifier: string;
		created_at: number;
		due_at: number;
		ip_country: string | null;
	},
	account: Account
): Promise<number> {
	const locale = asLocale(account.locale);
	const contacts = boundContacts(account);
	for (const to of contacts) {
		const link = await issueCancelLink(ctx, appeal, appeal.created_at + RECOVERY_LINK_MAX_MS);
		await enqueueMessage(
			ctx,
			recoveryFiledMessage(to, locale, {
				newContact: maskStoredIdentifier(appeal.new_identifier),
				at: new Date(appeal.created_at),
				country: describeCountry(appeal.ip_country, locale),
				dueAt: new Date(appeal.due_at),
				holdHours: Math.round(ctx.config.appeals.recoveryHoldMs / 3_600_000),
				link
			})
		);
	}
	return contacts.length;
}

/**
 * §8a: during the hold (at approval, then every 24 hours), to every contact still bound to the
 * account: when the move takes effect, with a fresh link that works until then.
 */
export async function remindHeldRecovery(
	ctx: Ctx,
	appeal: { id: string; account_id: string; new_identifier: string; rebind_due_at: number },
	account: Pick<Account, 'email' | 'phone' | 'locale'>
): Promise<number> {
	const locale = asLocale(account.locale);
	const contacts = boundContacts(account);
	for (const to of contacts) {
		const link = await issueCancelLink(ctx, appeal, appeal.rebind_due_at);
		await enqueueMessage(
			ctx,
			recoveryHeldMessage(to, locale, {
				newContact: maskStoredIdentifier(appeal.new_identifier),
				effectiveAt: new Date(appeal.rebind_due_at),
				link
			})
		);
	}
	return contacts.length;
}
