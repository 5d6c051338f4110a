/**
 * R15a: which tier each field of the check report belongs to, in one table. `public` fields are
 * shown to anyone (in `standard` mode); `verified` fields only to the signed-in owner, an agent, or
 * a browser that proved control of the identifier with a `check` code. `networkCountry` is not in
 * the table: it is the asker's own network, the same whatever identifier is checked, so every mode
 * (strict too) shows it.
 */
type Tier = 'public' | 'verified';
export type DisclosureMode = 'standard' | 'open' | 'strict';

const fieldTiers = {
	registered: 'public',
	status: 'public',
	verification: 'public',
	nextSteps: 'public',
	'warnings.ip_country_mismatch': 'public',
	'warnings.under_review': 'public',
	contactChange: 'verified',
	contacts: 'verified',
	recentActivity: 'verified',
	security: 'verified',
	recovery: 'verified',
	'warnings.low_activity': 'verified',
	'warnings.multiple_accounts_on_device': 'verified',
	'warnings.appeal_open': 'verified'
} as const satisfies Record<string, Tier>;

export type ReportField = keyof typeof fieldTiers;

/** Whether `field` may be shown to a viewer whose proof is `proven`, under `mode`. */
export function discloses(mode: DisclosureMode, field: ReportField, proven: boolean): boolean {
	if (proven || mode === 'open') return true;
	if (mode === 'strict') return false;
	return fieldTiers[field] === 'public';
}
