import type { Ctx } from '../core/context';
import type { Agent } from '../support';
import { audit } from '../core/audit';
import type { AppealStatus } from '../db/schema';
import { isOpenAppeal, OPEN_APPEAL_STATUSES } from '$lib/types/account';
import { readDocument } from './documents/store';
import { maskStoredIdentifier } from '../core/identifiers';

/** R20: "due soon" is the last 6 hours before the 48-hour deadline. */
const DUE_SOON_MS = 6 * 3_600_000;
export const QUEUE_FILTERS = [
	'open',
	'mine',
	'submitted',
	'in_review',
	'needs_info',
	'approved',
	'held',
	'rejected',
	'cancelled',
	'all'
] as const;
export type QueueFilter = (typeof QUEUE_FILTERS)[number];

export interface QueueItem {
	id: string;
	reference: string;
	status: AppealStatus;
	createdAt: string;
	dueAt: string;
	/** R20 marks, computed from the injected clock; decided or cancelled appeals are never overdue. */
	urgency: Urgency;
	oldIdentifierMasked: string;
	assignedTo: string | null;
	assignedToMe: boolean;
	/** §8 recovery hold: an approval waiting for its rebind, and the rebind once applied. */
	rebindDueAt: string | null;
	reboundAt: string | null;
	/** §8: who stopped the appeal ('link': a cancel link sent to an old contact; 'owner': signed in). */
	cancelledAt: string | null;
	cancelledBy: 'link' | 'owner' | null;
}

export type Urgency = 'overdue' | 'due_soon' | 'on_time' | 'decided' | 'closed';

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** §8: the hold and cancel facts of an appeal row, as the queue and the appeal page show them. */
function recoveryOf(r: {
	rebind_due_at: number | null;
	rebound_at: number | null;
	cancelled_at: number | null;
	cancelled_by: 'link' | 'owner' | null;
}) {
	return {
		rebindDueAt: isoOrNull(r.rebind_due_at),
		reboundAt: isoOrNull(r.rebound_at),
		cancelledAt: isoOrNull(r.cancelled_at),
		cancelledBy: r.cancelled_by
	};
}

function urgencyOf(status: AppealStatus, dueAt: number, now: number): Urgency {
	if (status === 'cancelled') return 'closed';
	if (!isOpenAppeal(status)) return 'decided';
	if (now >= dueAt) return 'overdue';
	if (dueAt - now <= DUE_SOON_MS) return 'due_soon';
	return 'on_time';
}

/** R20: the queue, earliest due first. */
export async function listQueue(
	ctx: Ctx,
	agent: Agent,
	filter: QueueFilter = 'open'
): Promise<QueueItem[]> {
	const now = ctx.clock.now().getTime();
	let query = ctx.db
		.selectFrom('appeals')
		.leftJoin('agents', 'agents.id', 'appeals.assigned_agent_id')
		.select([
			'appeals.id',
			'appeals.reference',
			'appeals.status',
			'appeals.created_at',
			'appeals.due_at',
			'appeals.old_identifier',
			'appeals.assigned_agent_id',
			'appeals.rebind_due_at',
			'appeals.rebound_at',
			'appeals.cancelled_at',
			'appeals.cancelled_by',
			'agents.username'
		]);
	if (filter === 'open') query = query.where('appeals.status', 'in', OPEN_APPEAL_STATUSES);
	else if (filter === 'mine')
		query = query
			.where('appeals.status', 'in', OPEN_APPEAL_STATUSES)
			.where('appeals.assigned_agent_id', '=', agent.id);
	else if (filter === 'held')
		// §8: approved and waiting for the recovery hold to end (the holder can still cancel).
		query = query
			.where('appeals.status', '=', 'approved')
			.where('appeals.rebind_due_at', 'is not', null)
			.where('appeals.rebound_at', 'is', null);
	else if (filter !== 'all') query = query.where('appeals.status', '=', filter);
	const rows = await query
		.orderBy('appeals.due_at', 'asc')
		.orderBy('appeals.reference', 'asc')
		.limit(500)
		.execute();
	return rows.map((r) => ({
		id: r.id,
		reference: r.reference,
		status: r.status,
		createdAt: new Date(r.created_at).toISOString(),
		dueAt: new Date(r.due_at).toISOString(),
		urgency: urgencyOf(r.status, r.due_at, now),
		oldIdentifierMasked: maskStoredIdentifier(r.old_identifier),
		assignedTo: r.username ?? null,
		assignedToMe: r.assigned_agent_id === agent.id,
		...recoveryOf(r)
	}));
}

/** Everything an agent needs to decide one appeal (R22: agents see identifiers whole). */
export async function appealForAgent(ctx: Ctx, agent: Agent, appealId: string) {
	const { db } = ctx;
	const row = await db
		.selectFrom('appeals')
		.leftJoin('agents as assignee', 'assignee.id', 'appeals.assigned_agent_id')
		.leftJoin('agents as approver', 'approver.id', 'appeals.first_approval_by')
		.leftJoin('agents as decider', 'decider.id', 'appeals.decided_by')
		.selectAll('appeals')
		.select([
			'assignee.username as assignee_username',
			'approver.username as approver_username',
			'decider.username as decider_username'
		])
		.where('appeals.id', '=', appealId)
		.executeTakeFirst();
	if (!row) return null;
	const [documents, messages, account, agents] = await Promise.all([
		db
			.selectFrom('appeal_documents')
			.select([
				'id',
				'content_type',
				'byte_size',
				'created_at',
				'deleted_at',
				'source',
				'upload_index',
				'page',
				'pages',
				'original_type'
			])
			.where('appeal_id', '=', appealId)
			.orderBy('created_at')
			.orderBy('upload_index')
			.orderBy('page')
			.orderBy('id')
			.execute(),
		db
			.selectFrom('appeal_messages')
			.leftJoin('agents', 'agents.id', 'appeal_messages.author_id')
			.select([
				'appeal_messages.author_kind',
				'appeal_messages.body',
				'appeal_messages.created_at',
				'agents.username'
			])
			.where('appeal_id', '=', appealId)
			.orderBy('appeal_messages.created_at')
			.orderBy('appeal_messages.id')
			.execute(),
		row.account_id
			? db
					.selectFrom('accounts')
					.select(['id', 'email', 'phone', 'status', 'country'])
					.where('id', '=', row.account_id)
					.executeTakeFirst()
			: Promise.resolve(undefined),
		db
			.selectFrom('agents')
			.select(['id', 'username'])
			.where('disabled_at', 'is', null)
			.orderBy('username')
			.execute()
	]);
	const now = ctx.clock.now().getTime();
	return {
		id: row.id,
		reference: row.reference,
		status: row.status,
		createdAt: new Date(row.created_at).toISOString(),
		dueAt: new Date(row.due_at).toISOString(),
		urgency: urgencyOf(row.status, row.due_at, now),
		oldIdentifier: row.old_identifier,
		newIdentifier: row.new_identifier,
		description: row.description,
		assignedTo: row.assignee_username ?? null,
		assignedToMe: row.assigned_agent_id === agent.id,
		firstApprovalBy: row.approver_username ?? null,
		decisionReason: row.decision_reason,
		decidedAt: row.decided_at ? new Date(row.decided_at).toISOString() : null,
		// R22: who decided, for the decision state (null: decided by the system or not yet).
		decidedBy: row.decider_username ?? null,
		...recoveryOf(row),
		account: account ?? null,
		documents: documents.map((d) => ({
			id: d.id,
			contentType: d.content_type,
			byteSize: d.byte_size,
			source: d.source,
			createdAt: new Date(d.created_at).toISOString(),
			deleted: d.deleted_at !== null,
			// R19: one row per rebuilt page: which upload of its submission or answer, which page of it.
			upload: d.upload_index,
			page: d.page,
			pages: d.pages,
			original: d.original_type ?? d.content_type
		})),
		messages: messages.map((msg) => ({
			from: msg.author_kind,
			agent: msg.username ?? null,
			body: msg.body,
			createdAt: new Date(msg.created_at).toISOString()
		})),
		agents: agent.role === 'admin' ? agents : []
	};
}

/** R22: one audit row per document, agent and address an hour, however often the page is reloaded. */
const VIEW_AUDIT_WINDOW_MS = 60 * 60 * 1000;

async function viewedWithinHour(
	ctx: Ctx,
	agent: Agent,
	appealId: string,
	documentId: string,
	ip: string
) {
	const row = await ctx.db
		.selectFrom('audit_events')
		.select('id')
		.where('action', '=', 'appeal.document_viewed')
		.where('actor_id', '=', agent.id)
		.where('subject_id', '=', appealId)
		// From another address it is another row: a stolen agent session shows where it was used.
		.where('ip', '=', ip)
		.where('at', '>', ctx.clock.now().getTime() - VIEW_AUDIT_WINDOW_MS)
		// The id is a UUID (hex and hyphens): nothing in it is a LIKE wildcard.
		.where('details', 'like', `%"documentId":"${documentId}"%`)
		.limit(1)
		.executeTakeFirst();
	return row !== undefined;
}

/**
 * R22: a document for a signed-in agent; null when gone or unknown. Each agent's viewing of a
 * document is audited once an hour (the first opening in any hour writes a row).
 */
export async function openDocument(
	ctx: Ctx,
	agent: Agent,
	documentId: string,
	meta: { ip: string }
) {
	const { db } = ctx;
	const doc = await db
		.selectFrom('appeal_documents')
		.innerJoin('appeals', 'appeals.id', 'appeal_documents.appeal_id')
		.select([
			'appeal_documents.id',
			'appeal_documents.appeal_id',
			'appeal_documents.content_type',
			'appeal_documents.deleted_at',
			'appeals.reference'
		])
		.where('appeal_documents.id', '=', documentId)
		.executeTakeFirst();
	if (!doc || doc.deleted_at !== null) return null;
	const bytes = await readDocument(ctx, doc.id);
	if (!bytes) return null;
	if (!(await viewedWithinHour(ctx, agent, doc.appeal_id, doc.id, meta.ip)))
		await audit(ctx, {
			actorKind: agent.role,
			actorId: agent.id,
			action: 'appeal.document_viewed',
			subjectKind: 'appeal',
			subjectId: doc.appeal_id,
			ip: meta.ip,
			details: { documentId: doc.id }
		});
	const ext =
		doc.content_type === 'application/pdf'
			? 'pdf'
			: doc.content_type === 'image/png'
				? 'png'
				: 'jpg';
	return {
		bytes,
		contentType: doc.content_type,
		filename: `${doc.reference}-${doc.id.slice(0, 8)}.${ext}`
	};
}
