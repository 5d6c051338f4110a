import type { Ctx } from '../core/context';
import { boundContacts } from '../core/identifiers';
import { describeCountry, describeDevice, type RequestMeta } from '../core/request-meta';
import type { Account } from '../db/schema';
import { issueSecureAccountLink } from '../accounts';
import { asLocale, enqueueMessage, twoStepChangedMessage, type TwoStepChange } from '../messaging';

/**
 * Rules §7a, "Two-step changes are told": a passkey added or removed, TOTP turned on or off
 * (recovery codes come and go with TOTP) tells every bound contact, in the account's language:
 * when, the network's country and the device in words, and a "this wasn't me" link — which also
 * removes every factor added at or after the link's creation, this change included when it added
 * one (`at` is the change's own time, so the link is never younger than it). One link per change, shared by the contacts. The link is on ORIGIN (the path alone without
 * it), never a request's Host. Run it in the change's transaction: no change without its notice.
 */
export async function tellTwoStepChange(
	ctx: Ctx,
	account: Account,
	change: TwoStepChange,
	meta: RequestMeta,
	at: number = ctx.clock.now().getTime()
): Promise<void> {
	const contacts = boundContacts(account);
	if (contacts.length === 0) return;
	const locale = asLocale(account.locale);
	const link = await issueSecureAccountLink(ctx, account.id, ctx.config.origin ?? null, at);
	for (const contact of contacts)
		await enqueueMessage(
			ctx,
			twoStepChangedMessage(contact, locale, {
				change,
				at: new Date(at),
				country: describeCountry(meta.ipCountry, locale),
				device: describeDevice(meta.userAgent, locale),
				link
			})
		);
}
