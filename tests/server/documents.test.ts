import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
	detectDocumentType,
	MAX_DOCUMENT_BYTES,
	MAX_IMAGE_SIDE,
	MAX_PAGE_SIDE,
	MAX_PDF_PAGES,
	RENDER_DPI,
	type InspectResult,
	type UploadedFile
} from '../../src/lib/server/appeals/documents/inspect';
import {
	inspectDocuments,
	type PooledInspection
} from '../../src/lib/server/appeals/documents/pool';
import type { Ctx } from '../../src/lib/server/core/context';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import {
	encryptedPdf,
	htmlBytes,
	jpegBytes,
	jpegWithGpsExif,
	latin1,
	nestedGroupsPdf,
	pdfBytes,
	pdfOf,
	pixelFloodPng,
	pngBytes,
	pngChunkTypes,
	PNG_SIGNATURE
} from '../support/documents';

/**
 * R19 documents, through the worker pool as uploads go (sharp and MuPDF load in its threads):
 * the kind is decided by content, and what comes back is always a new image made from pixels.
 */

// The pool comes with a context; an in-memory SQLite database is all the context needs here.
let database: TestDatabase;
let ctx: Ctx;
beforeAll(async () => {
	database = await testDatabases[0]!.open();
	ctx = testAppContext(database);
});
afterAll(async () => {
	await closeTestDocumentPool();
	await database.dispose();
});

const file = (bytes: Uint8Array, declaredType = '', name = 'scan'): UploadedFile => ({
	name,
	declaredType,
	bytes
});

async function inspect(one: UploadedFile): Promise<PooledInspection> {
	const run = await inspectDocuments(ctx, [one]);
	if (!run.ok) throw new Error('pool busy');
	return run.results[0]!;
}

/** The rebuilt pages of an upload that must be accepted. */
async function rebuilt(one: UploadedFile) {
	const result = await inspect(one);
	expect(result).toMatchObject({ ok: true });
	return (result as Extract<InspectResult, { ok: true }>).pages;
}

const isPng = (bytes: Uint8Array) =>
	Buffer.from(bytes.subarray(0, 8)).equals(Buffer.from(PNG_SIGNATURE));

describe('R19 documents: kind by content', () => {
	it('file-type tells JPEG, PNG and PDF by their bytes, and nothing else', async () => {
		expect(await detectDocumentType(jpegBytes())).toBe('image/jpeg');
		expect(await detectDocumentType(pngBytes())).toBe('image/png');
		expect(await detectDocumentType(pdfBytes())).toBe('application/pdf');
		expect(await detectDocumentType(htmlBytes())).toBeNull();
		expect(
			await detectDocumentType(
				new Uint8Array(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))
			)
		).toBeNull();
	});

	it('refuses an HTML file named .jpg and declared image/jpeg', async () => {
		expect(await inspect(file(htmlBytes(), 'image/jpeg', 'passport.jpg'))).toEqual({
			ok: false,
			problem: 'unknown_type'
		});
	});

	it('refuses a PNG whose declared Content-Type lies (application/pdf)', async () => {
		expect(await inspect(file(pngBytes(), 'application/pdf', 'id.pdf'))).toMatchObject({
			ok: false,
			problem: 'type_mismatch',
			detected: 'image/png'
		});
	});

	it('accepts a PNG declared as octet-stream and a JPEG with no type: the content decides', async () => {
		expect(await inspect(file(pngBytes(), 'application/octet-stream'))).toMatchObject({
			ok: true,
			original: 'image/png'
		});
		expect(await inspect(file(jpegBytes()))).toMatchObject({ ok: true, original: 'image/jpeg' });
	});

	it('refuses a PDF over 5 MB and accepts one of exactly 5 MB', async () => {
		expect(
			await inspect(file(pdfBytes({ padTo: MAX_DOCUMENT_BYTES + 1 }), 'application/pdf'))
		).toEqual({ ok: false, problem: 'too_large' });
		expect(
			await inspect(file(pdfBytes({ padTo: MAX_DOCUMENT_BYTES }), 'application/pdf'))
		).toMatchObject({ ok: true, original: 'application/pdf' });
	});

	it('refuses truncated and corrupted files as malformed', async () => {
		const brokenCrc = pngBytes();
		brokenCrc[20] = brokenCrc[20]! ^ 0xff;
		for (const bytes of [
			pngBytes().subarray(0, 40),
			jpegBytes().subarray(0, 30),
			brokenCrc,
			new Uint8Array(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog'))
		]) {
			expect(await inspect(file(bytes))).toMatchObject({ ok: false, problem: 'malformed' });
		}
	});
});

describe('R19 documents: photos rebuilt without metadata', () => {
	it('a JPEG with GPS EXIF comes back as a new JPEG with no EXIF at all', async () => {
		const original = await jpegWithGpsExif();
		expect((await sharp(original).metadata()).exif).toBeDefined();
		const [page] = await rebuilt(file(original, 'image/jpeg'));
		expect(page!.contentType).toBe('image/jpeg');
		expect(Buffer.from(page!.bytes).equals(Buffer.from(original))).toBe(false);
		const metadata = await sharp(page!.bytes).metadata();
		expect(metadata).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
		expect(metadata.exif).toBeUndefined();
		expect(latin1(page!.bytes)).not.toMatch(/Exif|PhoneCo|Zhang Wei/);
	});

	it('drops EXIF/GPS, XMP and comments of a JPEG and keeps its pixels', async () => {
		const [page] = await rebuilt(file(jpegBytes({ metadata: true }), 'image/jpeg'));
		expect(latin1(page!.bytes)).not.toMatch(/Exif|xmpmeta|Zhang Wei|Secret Road/);
		const { data, info } = await sharp(page!.bytes).raw().toBuffer({ resolveWithObject: true });
		expect([info.width, info.height]).toEqual([8, 8]);
		expect(Math.abs(data[0]! - 128)).toBeLessThan(3);
	});

	it('drops tEXt, zTXt, iTXt, tIME and eXIf chunks of a PNG and keeps its pixels', async () => {
		const original = pngBytes({ metadata: true });
		expect(pngChunkTypes(original)).toEqual(
			expect.arrayContaining(['tEXt', 'zTXt', 'iTXt', 'tIME', 'eXIf'])
		);
		const [page] = await rebuilt(file(original, 'image/png'));
		expect(
			pngChunkTypes(page!.bytes).filter((t) => !['IHDR', 'pHYs', 'IDAT', 'IEND'].includes(t))
		).toEqual([]);
		expect(latin1(page!.bytes)).not.toMatch(/Zhang Wei|Secret Road|xmpmeta|GPS/);
		const pixels = (bytes: Uint8Array) => sharp(bytes).removeAlpha().raw().toBuffer();
		expect((await pixels(page!.bytes)).equals(await pixels(original))).toBe(true);
	});

	it('turns a photo upright by its EXIF orientation, and the orientation tag goes', async () => {
		const sideways = await sharp({
			create: { width: 60, height: 20, channels: 3, background: '#884422' }
		})
			.withMetadata({ orientation: 6 })
			.jpeg()
			.toBuffer();
		const [page] = await rebuilt(file(new Uint8Array(sideways), 'image/jpeg'));
		const metadata = await sharp(page!.bytes).metadata();
		expect([metadata.width, metadata.height, metadata.orientation]).toEqual([20, 60, undefined]);
	});

	it(`keeps a large photo at most ${MAX_IMAGE_SIDE} px on its longest side`, async () => {
		const big = await sharp({
			create: { width: 6000, height: 1000, channels: 3, background: '#eeeeee' }
		})
			.png()
			.toBuffer();
		const [page] = await rebuilt(file(new Uint8Array(big), 'image/png'));
		expect(await sharp(page!.bytes).metadata()).toMatchObject({
			width: MAX_IMAGE_SIDE,
			height: Math.round(1000 * (MAX_IMAGE_SIDE / 6000))
		});
	});

	it('refuses a pixel flood (65,535 × 65,535 declared) from its header, before decoding', async () => {
		const started = performance.now();
		expect(await inspect(file(pixelFloodPng(65_535, 65_535), 'image/png'))).toMatchObject({
			ok: false,
			problem: 'too_complex'
		});
		expect(performance.now() - started).toBeLessThan(1_000);
	});
});

describe('R19 documents: PDFs become page images', () => {
	it(`renders each page of a PDF to a PNG at ${RENDER_DPI} dpi, in order`, async () => {
		const pages = await rebuilt(file(pdfBytes({ pages: 3 }), 'application/pdf'));
		expect(pages).toHaveLength(3);
		// 200 pt pages: 417 px at 150 dpi.
		const side = Math.ceil((200 * RENDER_DPI) / 72);
		for (const page of pages) {
			expect(page.contentType).toBe('image/png');
			expect(isPng(page.bytes)).toBe(true);
			expect(await sharp(page.bytes).metadata()).toMatchObject({ width: side, height: side });
			expect(page.sha256).toMatch(/^[0-9a-f]{64}$/);
		}
		// Not blank: the blue bar of the page content is there (x 20–180, y 20–50 pt from the bottom).
		const { data, info } = await sharp(pages[0]!.bytes).raw().toBuffer({ resolveWithObject: true });
		const at = (x: number, y: number) => [
			...data.subarray(
				(y * info.width + x) * info.channels,
				(y * info.width + x) * info.channels + 3
			)
		];
		expect(at(200, side - 70)).toEqual([51, 102, 204]);
		expect(at(5, 5)).toEqual([255, 255, 255]);
		// Each page is its own picture (its text says "Page n").
		expect(new Set(pages.map((p) => p.sha256)).size).toBe(3);
	});

	it(`caps a huge page at ${MAX_PAGE_SIDE} px on its longest side`, async () => {
		const poster = pdfOf([
			'<< /Type /Catalog /Pages 2 0 R >>',
			'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
			'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 7200] >>'
		]);
		const [page] = await rebuilt(file(poster, 'application/pdf'));
		expect(await sharp(page!.bytes).metadata()).toMatchObject({
			width: MAX_PAGE_SIDE,
			height: MAX_PAGE_SIDE / 2
		});
	});

	it(`accepts ${MAX_PDF_PAGES} pages and refuses ${MAX_PDF_PAGES + 1}`, async () => {
		expect(await rebuilt(file(pdfBytes({ pages: MAX_PDF_PAGES })))).toHaveLength(MAX_PDF_PAGES);
		expect(await inspect(file(pdfBytes({ pages: MAX_PDF_PAGES + 1 })))).toMatchObject({
			ok: false,
			problem: 'too_many_pages',
			detected: 'application/pdf'
		});
	});

	it('refuses a PDF that needs a password; one only restricted by an owner password is rendered', async () => {
		expect(await inspect(file(encryptedPdf()))).toMatchObject({ ok: false, problem: 'encrypted' });
		const mupdf = await import('mupdf');
		const restricted = mupdf.Document.openDocument(pdfBytes({ pages: 2 }), 'application/pdf')
			.asPDF()!
			.saveToBuffer('encrypt=aes-128,owner-password=owner')
			.asUint8Array()
			.slice();
		expect(latin1(restricted)).toContain('/Encrypt');
		expect(await rebuilt(file(restricted))).toHaveLength(2);
	});

	it('refuses a PDF with no page', async () => {
		const empty = pdfOf([
			'<< /Type /Catalog /Pages 2 0 R >>',
			'<< /Type /Pages /Kids [] /Count 0 >>'
		]);
		expect(await inspect(file(empty))).toMatchObject({ ok: false, problem: 'malformed' });
	});

	it("R19: a page that needs more than the thread's MuPDF memory is refused, and the thread renders the next file", async () => {
		expect(await inspect(file(nestedGroupsPdf(40)))).toMatchObject({
			ok: false,
			problem: 'too_complex'
		});
		expect(await rebuilt(file(pdfBytes({ pages: 2 })))).toHaveLength(2);
	});
});
