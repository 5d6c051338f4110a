import { sql } from 'kysely';
import type { Ctx } from '../core/context';
import { readDetails } from '../core/audit';

/** R22: the audit log as admins read it, newest first, filtered by action, actor or subject. */
export interface AuditFilter {
	action?: string | undefined;
	actorId?: string | undefined;
	subjectId?: string | undefined;
	before?: number | undefined;
}

/** One detail of an event, ready to read: agent ids are usernames, other ids a short tag. */
export interface AuditDetail {
	key: string;
	value: string | number | boolean | null;
}

const AUDIT_PAGE_SIZE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_KEYS = new Set(['fromAgentId', 'toAgentId', 'secondApprovalOf']);

/** The first 8 hex digits: enough to tell rows apart on a screen, unlike a whole UUID. */
const shortId = (id: string): string => id.slice(0, 8);

/**
 * The stored JSON as key/value pairs a person reads (R22: "no raw UUIDs or JSON"): agent ids become
 * their usernames, other ids their short form; nested values (none are written today) are dropped.
 */
export async function readableDetails(ctx: Ctx, raws: (string | null)[]): Promise<AuditDetail[][]> {
	const parsed = raws.map(readDetails);
	const agentIds = [
		...new Set(
			parsed.flatMap((d) =>
				Object.entries(d)
					.filter(([k, v]) => AGENT_KEYS.has(k) && typeof v === 'string')
					.map(([, v]) => v as string)
			)
		)
	];
	const names = new Map(
		agentIds.length === 0
			? []
			: (
					await ctx.db
						.selectFrom('agents')
						.select(['id', 'username'])
						.where('id', 'in', agentIds)
						.execute()
				).map((a) => [a.id, a.username])
	);
	return parsed.map((d) =>
		Object.entries(d)
			.filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
			.map(([key, v]) => {
				const value = v as AuditDetail['value'];
				if (typeof value !== 'string' || !UUID.test(value)) return { key, value };
				return { key, value: names.get(value) ?? `#${shortId(value)}` };
			})
	);
}

const isWholeAction = (action: string) => /^[a-z]+\.[a-z_]+$/.test(action);

export async function listAuditEvents(ctx: Ctx, filter: AuditFilter = {}) {
	let query = ctx.db
		.selectFrom('audit_events')
		.leftJoin('agents', 'agents.id', 'audit_events.actor_id')
		.leftJoin('appeals', (join) =>
			join
				.onRef('appeals.id', '=', 'audit_events.subject_id')
				.on('audit_events.subject_kind', '=', 'appeal')
		)
		.leftJoin('agents as subject_agent', (join) =>
			join
				.onRef('subject_agent.id', '=', 'audit_events.subject_id')
				.on('audit_events.subject_kind', '=', 'agent')
		)
		.select([
			'audit_events.id',
			'audit_events.at',
			'audit_events.actor_kind',
			'audit_events.actor_id',
			'agents.username',
			'audit_events.action',
			'audit_events.subject_kind',
			'audit_events.subject_id',
			'appeals.reference as subject_reference',
			'subject_agent.username as subject_username',
			'audit_events.ip',
			'audit_events.details'
		]);
	// A whole action ("appeal.document_viewed") matches itself only; anything else is a prefix:
	// "appeal." lists every appeal action. LIKE's wildcards in a prefix are matched literally.
	if (filter.action)
		query = isWholeAction(filter.action)
			? query.where('audit_events.action', '=', filter.action)
			: query.where(
					sql<boolean>`audit_events.action like ${`${filter.action.replace(/[%_\\]/g, '\\$&')}%`} escape '\\'`
				);
	if (filter.actorId) query = query.where('audit_events.actor_id', '=', filter.actorId);
	if (filter.subjectId) query = query.where('audit_events.subject_id', '=', filter.subjectId);
	if (filter.before) query = query.where('audit_events.id', '<', filter.before);
	const rows = await query.orderBy('audit_events.id', 'desc').limit(AUDIT_PAGE_SIZE).execute();
	const details = await readableDetails(
		ctx,
		rows.map((r) => r.details)
	);
	return rows.map((r, i) => ({
		id: Number(r.id),
		at: new Date(r.at).toISOString(),
		actorKind: r.actor_kind,
		actor: r.username ?? (r.actor_id ? `#${shortId(r.actor_id)}` : null),
		action: r.action,
		subject: r.subject_kind
			? {
					kind: r.subject_kind,
					id: r.subject_id,
					label: r.subject_reference ?? r.subject_username ?? shortId(r.subject_id ?? '')
				}
			: null,
		ip: r.ip,
		details: details[i]!
	}));
}
