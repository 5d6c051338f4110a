import type { Ctx } from '../core/context';

/** R22: the audit log as admins read it, newest first, filtered by action, actor or subject. */
export interface AuditFilter {
	action?: string | undefined;
	actorId?: string | undefined;
	subjectId?: string | undefined;
	before?: number | undefined;
}

const AUDIT_PAGE_SIZE = 100;

export async function listAuditEvents(ctx: Ctx, filter: AuditFilter = {}) {
	let query = ctx.db
		.selectFrom('audit_events')
		.leftJoin('agents', 'agents.id', 'audit_events.actor_id')
		.select([
			'audit_events.id',
			'audit_events.at',
			'audit_events.actor_kind',
			'audit_events.actor_id',
			'agents.username',
			'audit_events.action',
			'audit_events.subject_kind',
			'audit_events.subject_id',
			'audit_events.ip',
			'audit_events.details'
		]);
	// A prefix filter: "appeal." lists every appeal action.
	if (filter.action)
		query = query.where('audit_events.action', 'like', `${filter.action.replace(/[%_\\]/g, '')}%`);
	if (filter.actorId) query = query.where('audit_events.actor_id', '=', filter.actorId);
	if (filter.subjectId) query = query.where('audit_events.subject_id', '=', filter.subjectId);
	if (filter.before) query = query.where('audit_events.id', '<', filter.before);
	const rows = await query.orderBy('audit_events.id', 'desc').limit(AUDIT_PAGE_SIZE).execute();
	return rows.map((r) => ({
		id: Number(r.id),
		at: new Date(r.at).toISOString(),
		actorKind: r.actor_kind,
		actor: r.username ?? r.actor_id,
		action: r.action,
		subject: r.subject_kind ? `${r.subject_kind}:${r.subject_id ?? ''}` : null,
		ip: r.ip,
		details: r.details
	}));
}
