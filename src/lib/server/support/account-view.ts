import { m } from '$lib/paraglide/messages';
import { isLowActivity, findAccountByIdentifier } from '../accounts';
import type { Ctx } from '../core/context';
import type { Agent } from './agents';
import { audit } from '../core/audit';
import { readableDetails } from './audit-log';
import { checkHistory } from '../check';
import { quotaView, readQuota } from '../contact-change';
import { failure, failures, type Failure } from '../core/failures';
import { type Identifier, parseIdentifier } from '../core/identifiers';

const SECURITY_EVENTS_LIMIT = 50;
const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * R4, R22: an agent finds an account by email or phone. The identifier travels in a POST body
 * only; the caller redirects to the account's id, never to the identifier.
 */
export async function lookupAccount(
	ctx: Ctx,
	raw: string
): Promise<{ ok: true; accountId: string } | Failure> {
	const parsed = parseIdentifier(raw);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const account = await findAccountByIdentifier(ctx, parsed.identifier);
	return account
		? { ok: true, accountId: account.id }
		: failure(404, 'account_not_found', m.support_error_account_not_found(), {
				field: 'identifier'
			});
}

/**
 * R22: everything about one account for a signed-in agent — identifiers whole (agent view, R4),
 * flags with their evidence (R9, R10, R11), contact changes and the R16 quota, appeals, security
 * events and the checks run against it (R15). Each view is audited.
 */
export async function accountForAgent(
	ctx: Ctx,
	agent: Agent,
	accountId: string,
	meta: { ip: string }
) {
	if (!ACCOUNT_ID.test(accountId)) return null;
	const { db } = ctx;
	const account = await db
		.selectFrom('accounts')
		.leftJoin('agents', 'agents.id', 'accounts.review_decided_by')
		.selectAll('accounts')
		.select('agents.username as review_decided_by_username')
		.where('accounts.id', '=', accountId)
		.executeTakeFirst();
	if (!account) return null;
	const now = ctx.clock.now();
	const identifiers: Identifier[] = [];
	if (account.email) identifiers.push({ kind: 'email', value: account.email });
	if (account.phone) identifiers.push({ kind: 'phone', value: account.phone });

	const [deviceAccounts, changes, quota, appeals, events, checks] = await Promise.all([
		// R10 evidence: the other accounts registered from the same device.
		account.reg_device_id
			? db
					.selectFrom('accounts')
					.select(['id', 'email', 'phone', 'status', 'created_at'])
					.where('reg_device_id', '=', account.reg_device_id)
					.where('id', '!=', account.id)
					.orderBy('created_at')
					.limit(50)
					.execute()
			: Promise.resolve([]),
		db
			.selectFrom('contact_changes')
			.selectAll()
			.where('account_id', '=', account.id)
			.orderBy('changed_at', 'desc')
			.execute(),
		readQuota(ctx, account.id),
		db
			.selectFrom('appeals')
			.select(['id', 'reference', 'status', 'created_at', 'due_at'])
			.where('account_id', '=', account.id)
			.orderBy('created_at', 'desc')
			.execute(),
		db
			.selectFrom('audit_events')
			.leftJoin('agents', 'agents.id', 'audit_events.actor_id')
			.select([
				'audit_events.id',
				'audit_events.at',
				'audit_events.actor_kind',
				'audit_events.action',
				'audit_events.ip',
				'audit_events.details',
				'agents.username'
			])
			.where('audit_events.subject_kind', '=', 'account')
			.where('audit_events.subject_id', '=', account.id)
			.orderBy('audit_events.id', 'desc')
			.limit(SECURITY_EVENTS_LIMIT)
			.execute(),
		checkHistory(ctx, identifiers)
	]);

	await audit(ctx, {
		actorKind: agent.role,
		actorId: agent.id,
		action: 'support.account_viewed',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip
	});

	const eventDetails = await readableDetails(
		ctx,
		events.map((e) => e.details)
	);
	const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
	return {
		id: account.id,
		email: account.email,
		phone: account.phone,
		status: account.status,
		country: account.country,
		locale: account.locale,
		createdAt: iso(account.created_at)!,
		firstOrderAt: iso(account.first_order_at),
		/** Rules §7b: when the owner froze it, or null. */
		frozenAt: iso(account.frozen_at),
		review:
			account.review_decided_at === null
				? null
				: {
						decidedAt: iso(account.review_decided_at)!,
						by: account.review_decided_by_username ?? account.review_decided_by
					},
		flags: {
			// R9: unknown IP countries are never flagged.
			ipCountryMismatch:
				account.reg_ip_country !== null && account.reg_ip_country !== account.country,
			regIpCountry: account.reg_ip_country,
			// R10
			multipleAccountsOnDevice: account.multiple_accounts_on_device === 1,
			deviceAccounts: deviceAccounts.map((a) => ({
				id: a.id,
				email: a.email,
				phone: a.phone,
				status: a.status,
				createdAt: iso(a.created_at)!
			})),
			// R11
			lowActivity: isLowActivity(account, now)
		},
		contactChanges: changes.map((c) => ({
			kind: c.kind,
			oldIdentifier: c.old_identifier,
			newIdentifier: c.new_identifier,
			changedAt: iso(c.changed_at)!
		})),
		quota: quotaView(quota),
		appeals: appeals.map((a) => ({
			id: a.id,
			reference: a.reference,
			status: a.status,
			createdAt: iso(a.created_at)!,
			dueAt: iso(a.due_at)!
		})),
		events: events.map((e, i) => ({
			id: Number(e.id),
			at: iso(e.at)!,
			actorKind: e.actor_kind,
			actor: e.username,
			action: e.action,
			ip: e.ip,
			details: eventDetails[i]!
		})),
		checks
	};
}
