import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import { deleteDocumentContent } from '../appeals';

const DAY_MS = 86_400_000;

/**
 * R19: identity documents are deleted APPEAL_DOCUMENT_RETENTION_DAYS after the appeal is decided.
 * The row stays (marked deleted) so the audit trail still says what existed; each deletion is
 * audited. Safe to run from several instances: the conditional update decides who deletes.
 */
export async function purgeExpiredDocuments(ctx: Ctx): Promise<number> {
	const { db } = ctx;
	const now = ctx.clock.now().getTime();
	const cutoff = now - ctx.config.appeals.retentionDays * DAY_MS;
	const due = await db
		.selectFrom('appeal_documents')
		.innerJoin('appeals', 'appeals.id', 'appeal_documents.appeal_id')
		.select(['appeal_documents.id', 'appeal_documents.appeal_id'])
		.where('appeal_documents.deleted_at', 'is', null)
		.where('appeals.decided_at', 'is not', null)
		.where('appeals.decided_at', '<=', cutoff)
		.execute();
	let deleted = 0;
	for (const doc of due) {
		const marked = await db
			.updateTable('appeal_documents')
			.set({ deleted_at: now })
			.where('id', '=', doc.id)
			.where('deleted_at', 'is', null)
			.executeTakeFirst();
		if (marked.numUpdatedRows === 0n) continue;
		await deleteDocumentContent(ctx, doc.id);
		await audit(ctx, {
			actorKind: 'system',
			actorId: null,
			action: 'appeal.document_deleted',
			subjectKind: 'appeal',
			subjectId: doc.appeal_id,
			details: { documentId: doc.id, retentionDays: ctx.config.appeals.retentionDays }
		});
		deleted += 1;
	}
	return deleted;
}
