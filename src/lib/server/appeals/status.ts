import { randomUUID } from 'node:crypto';
import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { Db } from '../db/database';
import type { AppealStatus } from '../db/schema';
import type { UploadedFile } from './documents/inspect';
import { failure, failures, type Failure } from '../core/failures';
import { hashToken, sameSecret } from '../core/tokens';
import { crockfordReading, normalizeStatusCode } from './status-code';
import { APPEALS_PER_IP } from './submit';
import { inspectUploads, insertDocuments } from './uploads';
import { limitAddress, refusedFromNetwork } from '../platform/limits';
import { appealTimeline, type TimelineEntry } from './timeline';
import { applyDueRebind } from './recovery';
import type { RequestMeta } from '../core/request-meta';

/** R19: an appeal seen and answered by the person, with its reference and status secret. */

export interface AppealStatusView {
	reference: string;
	status: AppealStatus;
	createdAt: string;
	dueAt: string;
	/**
	 * §8a, approved: when the new contact is bound (the end of the hold, or when it was); null
	 * otherwise. A cancelled appeal says only that the account's current holder stopped it.
	 */
	effectiveAt: string | null;
	messages: { from: 'support' | 'you'; body: string; createdAt: string }[];
	documents: number;
	timeline: TimelineEntry[];
}

/** People retype references in lower case, with spaces, or with O for 0. */
export function normalizeReference(raw: string): string {
	const s = crockfordReading(raw);
	const body = s.startsWith('AP') ? s.slice(2) : s;
	return /^[0-9A-HJKMNP-TV-Z]{8}$/.test(body) ? `AP-${body.slice(0, 4)}-${body.slice(4)}` : '';
}

/** The appeal a status secret opens, or null (wrong reference and wrong secret look the same). */
async function appealForToken(db: Db, reference: string, token: string) {
	const normalized = normalizeReference(reference);
	const row = normalized
		? await db
				.selectFrom('appeals')
				.selectAll()
				.where('reference', '=', normalized)
				.executeTakeFirst()
		: undefined;
	// Compared in constant time, and hashed even when there is no row.
	const matches = sameSecret(
		row?.status_token_hash ?? hashToken('no appeal'),
		hashToken(normalizeStatusCode(token))
	);
	return row && matches ? row : null;
}

export async function appealStatus(
	ctx: Ctx,
	reference: string,
	token: string
): Promise<AppealStatusView | null> {
	const { db } = ctx;
	let row = await appealForToken(db, reference, token);
	if (!row) return null;
	// §8a: a held rebind that is due is applied on this read at the latest.
	if (
		row.status === 'approved' &&
		row.rebound_at === null &&
		row.rebind_due_at !== null &&
		Number(row.rebind_due_at) <= ctx.clock.now().getTime() &&
		(await applyDueRebind(ctx, row.id))
	)
		row = (await appealForToken(db, reference, token)) ?? row;
	const [messages, documents] = await Promise.all([
		db
			.selectFrom('appeal_messages')
			.select(['author_kind', 'body', 'created_at'])
			.where('appeal_id', '=', row.id)
			.orderBy('created_at', 'asc')
			.orderBy('id', 'asc')
			.execute(),
		db
			.selectFrom('appeal_documents')
			.select(['id', 'deleted_at'])
			.where('appeal_id', '=', row.id)
			.execute()
	]);
	const kept = documents.filter((d) => d.deleted_at === null).length;
	return {
		reference: row.reference,
		status: row.status,
		createdAt: new Date(row.created_at).toISOString(),
		dueAt: new Date(row.due_at).toISOString(),
		effectiveAt:
			row.status !== 'approved'
				? null
				: row.rebound_at !== null
					? new Date(Number(row.rebound_at)).toISOString()
					: row.rebind_due_at !== null
						? new Date(Number(row.rebind_due_at)).toISOString()
						: row.decided_at !== null
							? new Date(Number(row.decided_at)).toISOString()
							: null,
		messages: messages.map((msg) => ({
			from: msg.author_kind === 'agent' ? ('support' as const) : ('you' as const),
			body: msg.body,
			createdAt: new Date(msg.created_at).toISOString()
		})),
		documents: documents.length,
		timeline: await appealTimeline(ctx, row, kept)
	};
}

/**
 * R19: failed opens of a status per network (IPv4 address, IPv6 /64 with its /48 at 4×): 20 an
 * hour, then `429`. Only failures count, and a right reference and code is answered even past the
 * budget (as the recovery cancel links, R24): strangers on the owner's network (shared Wi-Fi,
 * carrier NAT) cannot lock the owner out. The 80-bit code is what stops guessing; the limit is
 * hardening: a sweep from one network meets 429s after 20 misses.
 */
const STATUS_FAILURES_PER_IP = { max: 20, windowMs: 3_600_000 };

/**
 * R19: the status for a reference and its code, as the page, its access cookie and the API open
 * it: a wrong reference or code is `404 appeal_not_found` and counts against the client's network,
 * past the limit `429 rate_limited`.
 */
export async function openAppealStatus(
	ctx: Ctx,
	access: { reference: string; statusToken: string },
	meta: Pick<RequestMeta, 'ip'>
): Promise<{ ok: true; view: AppealStatusView } | Failure> {
	const view = await appealStatus(ctx, access.reference, access.statusToken);
	if (view) return { ok: true, view };
	return refusedFromNetwork(
		ctx,
		'appeal-status',
		meta.ip,
		STATUS_FAILURES_PER_IP,
		failure(404, 'appeal_not_found', m.error_appeal_not_found())
	);
}

/**
 * R19: before an answer's body (up to 15 MB) is read at all: the client's network is within its
 * limit, the status secret opens an appeal, and that appeal is waiting for an answer. A forged
 * cookie costs a lookup, never an upload.
 */
export async function appealAnswerAllowed(
	ctx: Ctx,
	access: { reference: string; statusToken: string },
	meta: Pick<RequestMeta, 'ip'>
): Promise<Failure | null> {
	const byIp = await limitAddress(ctx, 'appeal-answer', meta.ip, APPEALS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const row = await appealForToken(ctx.db, access.reference, access.statusToken);
	if (!row) return failure(404, 'appeal_not_found', m.error_appeal_not_found());
	if (row.status !== 'needs_info')
		return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
	return null;
}

/** R19: the person answers a needs-info request with more documents (and optionally a note). */
export async function answerAppeal(
	ctx: Ctx,
	access: { reference: string; statusToken: string },
	input: { message?: string | undefined },
	files: UploadedFile[],
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = ctx;
	const row = await appealForToken(db, access.reference, access.statusToken);
	if (!row) return failure(404, 'appeal_not_found', m.error_appeal_not_found());
	if (row.status !== 'needs_info')
		return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
	// R19: only the holder of the status secret gets the documents inspected.
	const uploads = await inspectUploads(ctx, files);
	if (!uploads.ok) return uploads;
	const note = input.message?.trim() ?? '';
	return db.transaction().execute(async (trx) => {
		const now = ctx.clock.now().getTime();
		// R19: needs_info → in_review, once, even when two answers race.
		const moved = await trx
			.updateTable('appeals')
			.set({ status: 'in_review', updated_at: now })
			.where('id', '=', row.id)
			.where('status', '=', 'needs_info')
			.executeTakeFirst();
		if (moved.numUpdatedRows === 0n)
			return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
		await insertDocuments({ ...ctx, db: trx }, row.id, now, uploads.documents, 'reply');
		if (note) {
			await trx
				.insertInto('appeal_messages')
				.values({
					id: randomUUID(),
					appeal_id: row.id,
					author_kind: 'appellant',
					author_id: null,
					body: note,
					created_at: now
				})
				.execute();
		}
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: 'anonymous',
				actorId: null,
				action: 'appeal.answered',
				subjectKind: 'appeal',
				subjectId: row.id,
				ip: meta.ip,
				details: { documents: uploads.documents.length }
			}
		);
		return { ok: true as const };
	});
}
