import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../core/context';

/**
 * R19/R22 identity documents, stored where every instance sees them: in the shared database,
 * encrypted. Each document has its own random data key (AES-256-GCM, bound to the document id);
 * only that key's seal with the key ring is stored beside it, so a copy of the database opens
 * nothing, and `keys:rotate` re-seals the small data keys, never the documents.
 */

/** What is stored of one document page (the rebuilt copy, never the upload). */
export interface StoredPage {
	contentType: string;
	bytes: Uint8Array;
	sha256: string;
	upload?: number;
	page?: number;
	pages?: number;
	original?: string;
}

function encrypt(dataKey: Buffer, documentId: string, bytes: Uint8Array): Buffer {
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
	cipher.setAAD(Buffer.from(`appeal-document:${documentId}`));
	return Buffer.concat([iv, cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(dataKey: Buffer, documentId: string, sealed: Buffer): Buffer {
	const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.subarray(0, 12));
	decipher.setAAD(Buffer.from(`appeal-document:${documentId}`));
	decipher.setAuthTag(sealed.subarray(sealed.length - 16));
	return Buffer.concat([
		decipher.update(sealed.subarray(12, sealed.length - 16)),
		decipher.final()
	]);
}

/** Writes the document row and its encrypted content in the caller's transaction: both or neither. */
export async function storeDocument(
	ctx: Ctx,
	input: { appealId: string; now: number; source: 'submission' | 'reply'; page: StoredPage }
): Promise<string> {
	const id = randomUUID();
	const dataKey = randomBytes(32);
	const { page } = input;
	await ctx.db
		.insertInto('appeal_documents')
		.values({
			id,
			appeal_id: input.appealId,
			// No file any more: a random, unique name that says what the content row is.
			storage_key: `db:${randomBytes(18).toString('base64url')}`,
			content_type: page.contentType as 'image/png',
			byte_size: page.bytes.length,
			sha256: page.sha256,
			created_at: input.now,
			deleted_at: null,
			source: input.source,
			upload_index: page.upload ?? 0,
			page: page.page ?? 1,
			pages: page.pages ?? 1,
			original_type: page.original ?? page.contentType
		})
		.execute();
	await ctx.db
		.insertInto('appeal_document_contents')
		.values({
			document_id: id,
			wrapped_key: ctx.keys.seal('document', id, dataKey),
			content: encrypt(dataKey, id, page.bytes),
			created_at: input.now
		})
		.execute();
	return id;
}

/** The plaintext of a stored document, or null when it is gone or no key on the ring opens it. */
export async function readDocument(ctx: Ctx, documentId: string): Promise<Uint8Array | null> {
	const { db, keys } = ctx;
	const row = await db
		.selectFrom('appeal_document_contents')
		.select(['wrapped_key', 'content'])
		.where('document_id', '=', documentId)
		.executeTakeFirst();
	if (!row) return null;
	try {
		return new Uint8Array(
			decrypt(
				keys.open('document', documentId, row.wrapped_key),
				documentId,
				Buffer.from(row.content)
			)
		);
	} catch {
		return null;
	}
}

/** R19 retention: the content goes; the row stays, marked deleted, for the audit trail. */
export async function deleteDocumentContent(ctx: Ctx, documentId: string): Promise<void> {
	const { db } = ctx;
	await db.deleteFrom('appeal_document_contents').where('document_id', '=', documentId).execute();
}

/**
 * Documents stored as files by earlier versions (APPEAL_STORAGE_DIR): moved into the encrypted
 * store at start-up and their files deleted. Safe to run from several instances (the content
 * insert decides; the loser only deletes a file already moved).
 */
export async function importLegacyDocumentFiles(ctx: Ctx, dir: string): Promise<number> {
	const { db, keys } = ctx;
	const legacy = await db
		.selectFrom('appeal_documents')
		.leftJoin(
			'appeal_document_contents',
			'appeal_document_contents.document_id',
			'appeal_documents.id'
		)
		.select(['appeal_documents.id', 'appeal_documents.storage_key', 'appeal_documents.created_at'])
		.where('appeal_documents.deleted_at', 'is', null)
		.where('appeal_document_contents.document_id', 'is', null)
		.where('appeal_documents.storage_key', 'not like', 'db:%')
		.execute();
	let moved = 0;
	for (const doc of legacy) {
		if (!/^[A-Za-z0-9_-]{32}\.(jpg|png|pdf)$/.test(doc.storage_key)) continue;
		const path = join(dir, doc.storage_key);
		let bytes: Buffer;
		try {
			bytes = await readFile(path);
		} catch {
			continue;
		}
		const dataKey = randomBytes(32);
		const inserted = await db
			.insertInto('appeal_document_contents')
			.values({
				document_id: doc.id,
				wrapped_key: keys.seal('document', doc.id, dataKey),
				content: encrypt(dataKey, doc.id, bytes),
				created_at: doc.created_at
			})
			.onConflict((oc) => oc.column('document_id').doNothing())
			.executeTakeFirst();
		await unlink(path).catch(() => {});
		if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) moved += 1;
	}
	return moved;
}
