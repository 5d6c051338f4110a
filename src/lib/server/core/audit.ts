import type { AuditEventsTable } from '../db/schema';
import type { Ctx } from './context';

export interface AuditEntry {
	actorKind: AuditEventsTable['actor_kind'];
	actorId: string | null;
	action: string;
	subjectKind?: string;
	subjectId?: string;
	ip?: string | null;
	/** Never codes, passwords or whole identifiers (R4, R22). */
	details?: Record<string, string | number | boolean | null>;
}

/** R22: append-only; the database refuses updates and deletes of these rows. */
export async function audit(ctx: Ctx, entry: AuditEntry): Promise<void> {
	const { db, clock } = ctx;
	const at = clock.now().getTime();
	await db
		.insertInto('audit_events')
		.values({
			at,
			actor_kind: entry.actorKind,
			actor_id: entry.actorId,
			action: entry.action,
			subject_kind: entry.subjectKind ?? null,
			subject_id: entry.subjectId ?? null,
			ip: entry.ip ?? null,
			details: entry.details ? JSON.stringify(entry.details) : null
		})
		.execute();
	// R27: the event (a webhook delivery) commits or rolls back with the entry.
	await ctx.events?.recorded(ctx, entry, at);
}

/** The stored `details` of an entry as an object (`{}` when absent or not an object). */
export function readDetails(raw: string | null): Record<string, unknown> {
	if (!raw) return {};
	try {
		const parsed: unknown = JSON.parse(raw);
		return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
			? (parsed as Record<string, unknown>)
			: {};
	} catch {
		return {};
	}
}
