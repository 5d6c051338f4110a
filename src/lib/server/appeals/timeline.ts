import type { Ctx } from '../core/context';

/** R19/R21: what happened to an appeal, as the person who filed it may see it. */

const DAY_MS = 86_400_000;

type TimelineEvent =
	| 'submitted'
	| 'in_review'
	| 'needs_info'
	| 'answered'
	| 'approved'
	| 'rejected'
	/** §8a: the new contact was bound after the hold (upcoming while the hold runs). */
	| 'rebound'
	/** §8a: stopped by the account's current holder (who, link or owner, is not said). */
	| 'cancelled'
	| 'documents_deleted';

export interface TimelineEntry {
	event: TimelineEvent;
	at: string;
	/** Not yet happened: when it will (the documents' deletion after a decision, R19). */
	upcoming?: true;
}

/**
 * The audited actions the person is shown. Who worked the appeal (claims, take-overs, first
 * approvals, documents viewed) stays in the console; only the first claim says "in review".
 */
const PUBLIC: Record<string, TimelineEvent> = {
	'appeal.submitted': 'submitted',
	'appeal.claimed': 'in_review',
	'appeal.needs_info': 'needs_info',
	'appeal.answered': 'answered',
	'appeal.approved': 'approved',
	'appeal.rejected': 'rejected',
	'appeal.rebound': 'rebound',
	'appeal.cancelled': 'cancelled',
	'appeal.document_deleted': 'documents_deleted'
};
// Each happens once or, repeated, says nothing new.
const ONCE = new Set<TimelineEvent>([
	'submitted',
	'in_review',
	'rebound',
	'cancelled',
	'documents_deleted'
]);

export async function appealTimeline(
	ctx: Ctx,
	appeal: {
		id: string;
		decided_at: number | null;
		status?: string;
		rebind_due_at?: number | null;
		rebound_at?: number | null;
	},
	documentsLeft: number
): Promise<TimelineEntry[]> {
	const rows = await ctx.db
		.selectFrom('audit_events')
		.select(['action', 'at'])
		.where('subject_kind', '=', 'appeal')
		.where('subject_id', '=', appeal.id)
		.where('action', 'in', Object.keys(PUBLIC))
		.orderBy('at', 'asc')
		.orderBy('id', 'asc')
		.execute();
	const entries: TimelineEntry[] = [];
	for (const row of rows) {
		const event = PUBLIC[row.action]!;
		if (ONCE.has(event) && entries.some((e) => e.event === event)) continue;
		entries.push({ event, at: new Date(Number(row.at)).toISOString() });
	}
	// §8a: during the hold, when the rebind will happen (unless the account's holder stops it).
	if (
		appeal.status === 'approved' &&
		appeal.rebound_at == null &&
		appeal.rebind_due_at != null &&
		!entries.some((e) => e.event === 'rebound')
	) {
		entries.push({
			event: 'rebound',
			at: new Date(Number(appeal.rebind_due_at)).toISOString(),
			upcoming: true
		});
	}
	if (appeal.decided_at !== null && documentsLeft > 0) {
		const at = Number(appeal.decided_at) + ctx.config.appeals.retentionDays * DAY_MS;
		entries.push({ event: 'documents_deleted', at: new Date(at).toISOString(), upcoming: true });
	}
	return entries;
}
