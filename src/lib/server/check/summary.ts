import { isLowActivity } from '../accounts';
import type { AccountSummary } from '$lib/types/account';
import { quotaView, readQuota } from '../contact-change';
import type { Ctx } from '../core/context';
import type { Account } from '../db/schema';
import { maskIdentifier } from '../core/identifiers';

const SECURITY_ACTIONS = [
	'account.registered',
	'account.contact_changed',
	'account.password_reset',
	'account.password_changed',
	'account.new_device_alerted',
	'account.secured',
	'session.signed_in',
	'session.sign_in_failed',
	'session.revoked',
	'session.revoked_others',
	// Two-step (§7a): a right password whose second factor then failed is worth seeing.
	'session.second_factor_failed',
	'account.two_step_on',
	'account.two_step_off',
	'account.passkey_added',
	'account.passkey_removed',
	// R28: the owner's copy and deletion, so a thief's use of them shows here too.
	'account.data_exported',
	'account.deletion_requested',
	'account.deletion_cancelled'
];

export async function accountSummary(ctx: Ctx, account: Account): Promise<AccountSummary> {
	const contacts: AccountSummary['contacts'] = [];
	if (account.email)
		contacts.push({
			kind: 'email',
			masked: maskIdentifier({ kind: 'email', value: account.email })
		});
	if (account.phone)
		contacts.push({
			kind: 'phone',
			masked: maskIdentifier({ kind: 'phone', value: account.phone })
		});
	const flags: AccountSummary['flags'] = [];
	if (account.status === 'under_review') flags.push({ code: 'under_review' });
	if (account.reg_ip_country && account.reg_ip_country !== account.country)
		flags.push({ code: 'ip_country_mismatch' });
	if (isLowActivity(account, ctx.clock.now())) flags.push({ code: 'low_activity' });
	if (account.multiple_accounts_on_device) flags.push({ code: 'multiple_accounts_on_device' });
	const events = await ctx.db
		.selectFrom('audit_events')
		.select(['action', 'at', 'details'])
		.where('subject_kind', '=', 'account')
		.where('subject_id', '=', account.id)
		.where('action', 'in', SECURITY_ACTIONS)
		.orderBy('at', 'desc')
		.limit(10)
		.execute();
	const activity = events.map((e) => {
		const details = JSON.parse(e.details ?? '{}') as {
			ipCountry?: string | null;
			device?: string | null;
		};
		return {
			action: e.action,
			at: new Date(e.at).toISOString(),
			country: details.ipCountry ?? null,
			device: details.device ?? null
		};
	});
	const quota = await readQuota(ctx, account.id);
	return {
		contactChange: quotaView(quota),
		activity,
		status: account.status,
		country: account.country,
		createdAt: new Date(account.created_at).toISOString(),
		contacts,
		flags
	};
}
