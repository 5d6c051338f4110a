import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { m } from '$lib/paraglide/messages';
import { APPEAL_DESCRIPTION_MAX, APPEAL_DESCRIPTION_MIN, type AppealInput } from '$lib/schemas/appeal';
import { findAccountByIdentifier } from '../accounts/find';
import type { AppContext } from '../core/context';
import { audit } from '../core/audit';
import type { Db } from '../db/database';
import type { AppealStatus } from '../db/schema';
import { inspectDocuments, type FormEntry } from './documents/pool';
import {
	MAX_DOCUMENT_BYTES,
	MAX_DOCUMENTS_PER_UPLOAD,
	MAX_PAGES_PER_UPLOAD,
	MAX_PDF_PAGES,
	type CleanDocument,
	type DocumentProblem,
	type UploadedFile
} from './documents/inspect';
import { storeDocument } from './documents/store';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';
import { appealNoticeMessage } from './messages';
import { enqueueMessage } from '../messaging/outbox';
import { limitAddress } from '../platform/limits';
import type { RequestMeta } from '../core/request-meta';
import type { Keyring } from '../core/keys';
import { consumeCode, looksLikeCode, verifyCode } from '../messaging/codes';

type Deps = Pick<AppContext, 'database' | 'clock' | 'keys' | 'config'>;

/** R20: every appeal is due 48 hours after it is submitted. */
export const APPEAL_SLA_MS = 48 * 3_600_000;
const APPEALS_PER_IP = { max: 10, windowMs: 3_600_000 };
/** R19: the answer when the document pool or the upload buffer has its fill: try again shortly. */
export const uploadsBusy = (field = 'documents'): Failure =>
	failure(503, 'busy', m.error_documents_busy(), { field, retryAfterSeconds: 10 });
// Crockford base32 without I, L, O, U: read aloud and typed back without confusion.
const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface AppealReceipt {
	reference: string;
	/** Shown once; only its hash is stored. */
	statusToken: string;
	dueAt: Date;
}

export interface AppealStatusView {
	reference: string;
	status: AppealStatus;
	createdAt: string;
	dueAt: string;
	messages: { from: 'support' | 'you'; body: string; createdAt: string }[];
	documents: number;
}

const documentFailure = (problem: DocumentProblem | 'timeout', name: string, detected?: string): Failure => {
	const field = 'documents';
	const file = name.slice(0, 80) || '—';
	switch (problem) {
		case 'too_large':
			return failure(413, 'document_too_large', m.error_document_too_large({ name: file, max: MAX_DOCUMENT_BYTES / 1024 / 1024 }), { field });
		case 'type_mismatch':
			return failure(400, 'invalid_document', m.error_document_type_mismatch({ name: file, detected: detected ?? '' }), { field });
		case 'malformed':
			return failure(400, 'invalid_document', m.error_document_malformed({ name: file }), { field });
		case 'encrypted':
			return failure(400, 'invalid_document', m.error_document_encrypted({ name: file }), { field });
		case 'too_many_pages':
			return failure(400, 'invalid_document', m.error_document_too_many_pages({ name: file, max: MAX_PDF_PAGES }), { field });
		case 'empty':
			return failure(400, 'invalid_document', m.error_document_empty({ name: file }), { field });
		case 'unknown_type':
			return failure(400, 'invalid_document', m.error_document_unknown_type({ name: file }), { field });
		// Past the time limit, or past a decoder's memory or pixel limit: too heavy to read either way.
		case 'timeout':
		case 'too_complex':
			return failure(400, 'invalid_document', m.error_document_timeout({ name: file }), { field });
	}
};

/** R19: 1–3 files: counted before anything else, so a wrong count costs no code attempt. */
function countUploads(files: UploadedFile[]): Failure | null {
	if (files.length === 0) return failure(400, 'document_required', m.error_document_required(), { field: 'documents' });
	if (files.length > MAX_DOCUMENTS_PER_UPLOAD) {
		return failure(400, 'too_many_documents', m.error_too_many_documents({ max: MAX_DOCUMENTS_PER_UPLOAD }), { field: 'documents' });
	}
	return null;
}

/**
 * R19: 1–3 files, each JPEG/PNG/PDF by content and at most 5 MB, each rebuilt from its pixels
 * (inspect.ts): the pages returned are what is stored, never the uploads. All are checked
 * before anything is stored. The work runs in the document pool, off the event loop and within
 * its time and memory limits (`timeoutMs` replaces the time limit, for tests); a full pool
 * answers `busy` (503).
 */
export async function inspectUploads(files: UploadedFile[], options: { timeoutMs?: number } = {}): Promise<{ ok: true; documents: CleanDocument[] } | Failure> {
	const count = countUploads(files);
	if (count) return count;
	const inspected = await inspectDocuments(files, options);
	if (!inspected.ok) return uploadsBusy();
	const documents: CleanDocument[] = [];
	for (const [upload, result] of inspected.results.entries()) {
		if (!result.ok) return documentFailure(result.problem, files[upload]!.name, 'detected' in result ? result.detected : undefined);
		const pages = result.pages.length;
		for (const [i, page] of result.pages.entries()) documents.push({ ...page, upload, page: i + 1, pages, original: result.original });
	}
	// R19: what an agent is asked to read for one submission or answer, all its files together.
	if (documents.length > MAX_PAGES_PER_UPLOAD) {
		return failure(400, 'invalid_document', m.error_documents_too_many_pages({ max: MAX_PAGES_PER_UPLOAD }), { field: 'documents' });
	}
	return { ok: true, documents };
}

function newReference(): string {
	let s = '';
	for (let i = 0; i < 8; i += 1) s += REFERENCE_ALPHABET[randomInt(0, 32)];
	return `AP-${s.slice(0, 4)}-${s.slice(4)}`;
}

/** People retype references in lower case, with spaces, or with O for 0. */
export function normalizeReference(raw: string): string {
	const s = raw.normalize('NFKC').toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
	const body = s.startsWith('AP') ? s.slice(2) : s;
	return /^[0-9A-HJKMNP-TV-Z]{8}$/.test(body) ? `AP-${body.slice(0, 4)}-${body.slice(4)}` : '';
}

function hashToken(token: string): string {
	return createHash('sha256').update(token).digest('hex');
}

/** R19: every rebuilt page of the uploads, row and encrypted content, in the caller's transaction. */
async function insertDocuments(
	trx: Db,
	keys: Keyring,
	appealId: string,
	now: number,
	documents: CleanDocument[],
	source: 'submission' | 'reply'
): Promise<void> {
	for (const page of documents) await storeDocument(trx, keys, { appealId, now, source, page });
}

/**
 * R19: appeals per client network (IPv4 address, IPv6 /64 and /48), counted before the body of
 * up to 15 MB is read at all: the routes call this first, then `readMultipart`, then `submitAppeal`.
 */
export async function appealSubmissionAllowed(deps: Pick<Deps, 'database' | 'clock' | 'keys'>, meta: Pick<RequestMeta, 'ip'>): Promise<Failure | null> {
	const byIp = await limitAddress(deps.database.db, deps.clock, deps.keys, 'appeal', meta.ip, APPEALS_PER_IP);
	return byIp.ok ? null : failures.rateLimited(byIp.retryAfterSeconds);
}

/**
 * R19: old identifier, a new contact proven by an `appeal` code (R6), 1–3 documents and a
 * description. The answer is the same whether or not the old identifier has an account, so an
 * appeal cannot be used to find out who is registered.
 */
export async function submitAppeal(
	deps: Deps,
	input: AppealInput,
	files: UploadedFile[],
	meta: RequestMeta
): Promise<({ ok: true } & AppealReceipt) | Failure> {
	const { db } = deps.database;
	const old = parseIdentifier(input.identifier, input.country);
	if (!old.ok) return failures.invalidIdentifier(old.problem, 'identifier');
	const next = parseIdentifier(input.newIdentifier, input.newCountry ?? input.country);
	if (!next.ok) return failures.invalidIdentifier(next.problem, 'newIdentifier');
	if (old.identifier.value === next.identifier.value) {
		return failure(400, 'same_identifier', m.error_appeal_same_identifier(), { field: 'newIdentifier' });
	}
	const description = input.description.trim();
	if ([...description].length < APPEAL_DESCRIPTION_MIN || [...description].length > APPEAL_DESCRIPTION_MAX) {
		return failure(400, 'invalid_description', m.error_appeal_description({ min: APPEAL_DESCRIPTION_MIN, max: APPEAL_DESCRIPTION_MAX }), { field: 'description' });
	}
	if (!looksLikeCode(input.newIdentifierCode)) {
		return { ...failures.codeFormat(), field: 'newIdentifierCode' };
	}
	const count = countUploads(files);
	if (count) return count;
	// R19/R6: the code is judged before any document is: without the right code an upload costs
	// one attempt and a lookup, never an inspection. A right code stays unused until the appeal
	// is stored with it below.
	const verified = await verifyCode(
		{ db, clock: deps.clock, keys: deps.keys },
		{ purpose: 'appeal', identifier: next.identifier.value, code: input.newIdentifierCode }
	);
	if (!verified.ok) return { ...failures.code(verified.reason), field: 'newIdentifierCode' };
	const uploads = await inspectUploads(files);
	if (!uploads.ok) return uploads;

	const account = await findAccountByIdentifier(db, old.identifier);
	const statusToken = randomBytes(32).toString('base64url');
	return db.transaction().execute(async (trx) => {
		// Consumed in the transaction: a wrong code's attempt is counted (the callback returns,
		// it does not throw), a right one is used only if the appeal is stored with it.
		const code = await consumeCode(
			{ db: trx, clock: deps.clock, keys: deps.keys },
			{ purpose: 'appeal', identifier: next.identifier.value, code: input.newIdentifierCode },
			// `verifyCode` above already counted this attempt against the hourly cap.
			{ counted: true }
		);
		if (!code.ok) return { ...failures.code(code.reason), field: 'newIdentifierCode' };
		const now = deps.clock.now().getTime();
		let reference = newReference();
		while (await trx.selectFrom('appeals').select('id').where('reference', '=', reference).executeTakeFirst()) {
			reference = newReference();
		}
		const id = randomUUID();
		await trx
			.insertInto('appeals')
			.values({
				id,
				reference,
				status_token_hash: hashToken(statusToken),
				account_id: account?.id ?? null,
				old_identifier: old.identifier.value,
				new_identifier: next.identifier.value,
				description,
				status: 'submitted',
				locale: meta.locale,
				created_at: now,
				due_at: now + APPEAL_SLA_MS,
				updated_at: now,
				assigned_agent_id: null,
				decided_at: null,
				decided_by: null,
				decision_reason: null,
				claimed_at: null,
				first_approval_by: null,
				first_approval_at: null
			})
			.execute();
		await insertDocuments(trx, deps.keys, id, now, uploads.documents, 'submission');
		await enqueueMessage(trx, deps, appealNoticeMessage(next.identifier, 'received', reference, meta.locale));
		await audit(trx, deps.clock, {
			actorKind: 'anonymous',
			actorId: null,
			action: 'appeal.submitted',
			subjectKind: 'appeal',
			subjectId: id,
			ip: meta.ip,
			details: { reference, documents: uploads.documents.length, accountFound: account !== undefined }
		});
		return { ok: true as const, reference, statusToken, dueAt: new Date(now + APPEAL_SLA_MS) };
	});
}

/** The appeal a status secret opens, or null (wrong reference and wrong secret look the same). */
async function appealForToken(db: Db, reference: string, token: string) {
	const normalized = normalizeReference(reference);
	const row = normalized
		? await db.selectFrom('appeals').selectAll().where('reference', '=', normalized).executeTakeFirst()
		: undefined;
	// Compared in constant time, and hashed even when there is no row.
	const expected = Buffer.from(row?.status_token_hash ?? hashToken('no appeal'), 'hex');
	const given = Buffer.from(hashToken(token), 'hex');
	return row && timingSafeEqual(expected, given) ? row : null;
}

export async function appealStatus(deps: Deps, reference: string, token: string): Promise<AppealStatusView | null> {
	const { db } = deps.database;
	const row = await appealForToken(db, reference, token);
	if (!row) return null;
	const [messages, documents] = await Promise.all([
		db
			.selectFrom('appeal_messages')
			.select(['author_kind', 'body', 'created_at'])
			.where('appeal_id', '=', row.id)
			.orderBy('created_at', 'asc')
			.orderBy('id', 'asc')
			.execute(),
		db.selectFrom('appeal_documents').select('id').where('appeal_id', '=', row.id).execute()
	]);
	return {
		reference: row.reference,
		status: row.status,
		createdAt: new Date(row.created_at).toISOString(),
		dueAt: new Date(row.due_at).toISOString(),
		messages: messages.map((msg) => ({
			from: msg.author_kind === 'agent' ? ('support' as const) : ('you' as const),
			body: msg.body,
			createdAt: new Date(msg.created_at).toISOString()
		})),
		documents: documents.length
	};
}

/**
 * R19: before an answer's body (up to 15 MB) is read at all: the client's network is within its
 * limit, the status secret opens an appeal, and that appeal is waiting for an answer. A forged
 * cookie costs a lookup, never an upload.
 */
export async function appealAnswerAllowed(
	deps: Pick<Deps, 'database' | 'clock' | 'keys'>,
	access: { reference: string; statusToken: string },
	meta: Pick<RequestMeta, 'ip'>
): Promise<Failure | null> {
	const byIp = await limitAddress(deps.database.db, deps.clock, deps.keys, 'appeal-answer', meta.ip, APPEALS_PER_IP);
	if (!byIp.ok) return failures.rateLimited(byIp.retryAfterSeconds);
	const row = await appealForToken(deps.database.db, access.reference, access.statusToken);
	if (!row) return failure(404, 'appeal_not_found', m.error_appeal_not_found());
	if (row.status !== 'needs_info') return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
	return null;
}

/** R19: the person answers a needs-info request with more documents (and optionally a note). */
export async function answerAppeal(
	deps: Deps,
	access: { reference: string; statusToken: string },
	input: { message?: string | undefined },
	files: UploadedFile[],
	meta: RequestMeta
): Promise<{ ok: true } | Failure> {
	const { db } = deps.database;
	const row = await appealForToken(db, access.reference, access.statusToken);
	if (!row) return failure(404, 'appeal_not_found', m.error_appeal_not_found());
	if (row.status !== 'needs_info') return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
	// R19: only the holder of the status secret gets the documents inspected.
	const uploads = await inspectUploads(files);
	if (!uploads.ok) return uploads;
	const note = input.message?.trim() ?? '';
	return db.transaction().execute(async (trx) => {
		const now = deps.clock.now().getTime();
		// R19: needs_info → in_review, once, even when two answers race.
		const moved = await trx
			.updateTable('appeals')
			.set({ status: 'in_review', updated_at: now })
			.where('id', '=', row.id)
			.where('status', '=', 'needs_info')
			.executeTakeFirst();
		if (moved.numUpdatedRows === 0n) return failure(409, 'appeal_not_waiting', m.error_appeal_not_waiting());
		await insertDocuments(trx, deps.keys, row.id, now, uploads.documents, 'reply');
		if (note) {
			await trx
				.insertInto('appeal_messages')
				.values({ id: randomUUID(), appeal_id: row.id, author_kind: 'appellant', author_id: null, body: note, created_at: now })
				.execute();
		}
		await audit(trx, deps.clock, {
			actorKind: 'anonymous',
			actorId: null,
			action: 'appeal.answered',
			subjectKind: 'appeal',
			subjectId: row.id,
			ip: meta.ip,
			details: { documents: uploads.documents.length }
		});
		return { ok: true as const };
	});
}

/** The `documents` files of a parsed multipart form, each checked against the size limit. */
export function uploadedFiles(entries: FormEntry[], name = 'documents'): UploadedFile[] | Failure {
	const files: UploadedFile[] = [];
	for (const entry of entries) {
		if (entry.name !== name) continue;
		if (!('file' in entry)) {
			if (entry.value === '') continue;
			return failure(400, 'invalid_document', m.error_document_unknown_type({ name: '—' }), { field: name });
		}
		const { file } = entry;
		// Browsers send an empty, nameless part for a file input left empty.
		if (file.bytes.length === 0 && file.name === '') continue;
		if (file.bytes.length > MAX_DOCUMENT_BYTES) {
			return documentFailure('too_large', file.name);
		}
		files.push({ name: file.name, declaredType: file.type, bytes: file.bytes });
	}
	return files;
}
