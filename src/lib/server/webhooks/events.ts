import type { AuditEntry } from '../core/audit';

/**
 * R27: which audited actions are webhook events, and what each tells. One table, so an event
 * type is found (and reviewed for what it lets out) in one place. `data` picks from the audit
 * entry's details only: they hold masked contacts, never codes, passwords or documents (R4).
 */

type WebhookType =
	| 'account.registered'
	| 'account.review_started'
	| 'account.review_cleared'
	| 'account.frozen'
	| 'account.unfrozen'
	| 'account.contact_changed'
	| 'account.recovery_pending'
	| 'account.recovery_cancelled'
	| 'account.recovery_applied'
	| 'appeal.decided'
	| 'account.password_reset'
	| 'account.sessions_ended'
	| 'account.two_step_on'
	| 'account.two_step_off'
	| 'account.deletion_scheduled'
	| 'account.deletion_cancelled'
	| 'account.deleted';

type Details = NonNullable<AuditEntry['details']>;
type Data = Record<string, string | number | boolean | null>;

interface EventRule {
	type: WebhookType;
	/** Only when this holds for the entry (default: always). */
	when?: (details: Details) => boolean;
	/** What the body adds to `accountId` (default: nothing). */
	data?: (details: Details, entry: AuditEntry) => Data;
}

/** Only these keys of the details ever leave, and only as strings, numbers, booleans or null. */
function pick(details: Details, keys: string[]): Data {
	const data: Data = {};
	for (const key of keys) if (key in details) data[key] = details[key] ?? null;
	return data;
}

const appealOf = (entry: AuditEntry): Data => ({ appealId: entry.subjectId ?? null });

const EVENT_RULES: Record<string, EventRule[]> = {
	'account.registered': [
		{ type: 'account.registered', data: (d) => pick(d, ['status']) },
		// R9: a country mismatch opens the account under review.
		{ type: 'account.review_started', when: (d) => d.status === 'under_review' }
	],
	'support.review_cleared': [{ type: 'account.review_cleared' }],
	'account.frozen': [{ type: 'account.frozen', data: (d) => pick(d, ['by']) }],
	'account.freeze_lifted': [{ type: 'account.unfrozen', data: (d) => pick(d, ['by']) }],
	// Masked by rebindContact (`j***n@e***.com`); never the whole contact.
	'account.contact_changed': [
		{ type: 'account.contact_changed', data: (d) => pick(d, ['from', 'to']) }
	],
	'appeal.approved': [
		{ type: 'appeal.decided', data: (_d, entry) => ({ ...appealOf(entry), decision: 'approved' }) },
		{
			type: 'account.recovery_pending',
			when: (d) => typeof d.rebindDueAt === 'string',
			data: (d, entry) => ({ ...appealOf(entry), effectiveAt: d.rebindDueAt ?? null })
		}
	],
	'appeal.rejected': [
		{ type: 'appeal.decided', data: (_d, entry) => ({ ...appealOf(entry), decision: 'rejected' }) }
	],
	'account.recovery_cancelled': [
		{ type: 'account.recovery_cancelled', data: (d) => pick(d, ['by']) }
	],
	'account.contact_rebound': [
		{
			type: 'account.recovery_applied',
			data: (d) => pick(d, ['appealId', 'from', 'to', 'twoStepOff'])
		}
	],
	'account.password_reset': [{ type: 'account.password_reset', data: (d) => pick(d, ['via']) }],
	'session.revoked_others': [{ type: 'account.sessions_ended', data: (d) => pick(d, ['count']) }],
	'account.two_step_on': [{ type: 'account.two_step_on', data: (d) => pick(d, ['method']) }],
	'account.two_step_off': [{ type: 'account.two_step_off', data: (d) => pick(d, ['method']) }],
	// "This wasn't me" undoes a two-step set-up someone else made.
	'account.two_step_undone': [{ type: 'account.two_step_off' }],
	// R28: the owner's deletion: asked for (and when it takes effect), kept, done.
	'account.deletion_requested': [
		{ type: 'account.deletion_scheduled', data: (d) => pick(d, ['effectiveAt']) }
	],
	'account.deletion_cancelled': [
		{ type: 'account.deletion_cancelled', data: (d) => pick(d, ['by']) }
	],
	'account.erased': [{ type: 'account.deleted' }]
};

/** The events one audit entry makes: its types and the data besides `accountId`. */
export function eventsOf(entry: AuditEntry): { type: WebhookType; data: Data }[] {
	const rules = EVENT_RULES[entry.action] ?? [];
	const details = entry.details ?? {};
	return rules
		.filter((rule) => rule.when?.(details) ?? true)
		.map((rule) => ({ type: rule.type, data: rule.data?.(details, entry) ?? {} }));
}

/** The account an entry concerns: its subject, or (an appeal's entry) the appeal's account. */
export function accountSubject(entry: AuditEntry): { accountId?: string; appealId?: string } {
	if (entry.subjectKind === 'account' && entry.subjectId) return { accountId: entry.subjectId };
	if (entry.subjectKind === 'appeal' && entry.subjectId) {
		const fromDetails = entry.details?.accountId;
		return typeof fromDetails === 'string'
			? { accountId: fromDetails, appealId: entry.subjectId }
			: { appealId: entry.subjectId };
	}
	return {};
}
