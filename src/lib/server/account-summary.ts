import { isLowActivity } from './activity';
import type { AppContext } from './app';
import type { Account, AccountStatus } from './db/schema';
import { maskIdentifier } from './identifiers';

/** The owner's own view of the account (R13's verified tier grows from this in the check). */
export interface AccountSummary {
	status: AccountStatus;
	country: string;
	createdAt: string;
	contacts: { kind: 'email' | 'phone'; masked: string }[];
	flags: { code: 'under_review' | 'low_activity' | 'multiple_accounts_on_device' | 'ip_country_mismatch' }[];
}

export async function accountSummary(deps: Pick<AppContext, 'clock'>, account: Account): Promise<AccountSummary> {
	const contacts: AccountSummary['contacts'] = [];
	if (account.email) contacts.push({ kind: 'email', masked: maskIdentifier({ kind: 'email', value: account.email }) });
	if (account.phone) contacts.push({ kind: 'phone', masked: maskIdentifier({ kind: 'phone', value: account.phone }) });
	const flags: AccountSummary['flags'] = [];
	if (account.status === 'under_review') flags.push({ code: 'under_review' });
	if (account.reg_ip_country && account.reg_ip_country !== account.country) flags.push({ code: 'ip_country_mismatch' });
	if (isLowActivity(account, deps.clock.now())) flags.push({ code: 'low_activity' });
	if (account.multiple_accounts_on_device) flags.push({ code: 'multiple_accounts_on_device' });
	return {
		status: account.status,
		country: account.country,
		createdAt: new Date(account.created_at).toISOString(),
		contacts,
		flags
	};
}
