import { createHash } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';

/**
 * R19 identity documents, disarmed the way document-security tools do it (content disarm and
 * reconstruction): the original is never kept or shown. Its kind is decided by its bytes
 * (file-type), never by its name or declared type; then only pixels are taken from it and a new
 * file is made of them: a photo is decoded and re-encoded (sharp), each page of a PDF is rendered
 * to a PNG (MuPDF). No metadata, script, action, link, form, font or embedded file survives,
 * because nothing but pixels is copied.
 *
 * This module is the thread side's rules; the decoders arrive as `DocumentEngines` from
 * worker.ts, which loads them with their limits, so the event loop never loads them.
 */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
export const MAX_DOCUMENTS_PER_UPLOAD = 3;
/**
 * Pixel-flood guard: a 5 MB file may declare 65,535 × 65,535 pixels (17 GB decoded). libvips
 * refuses anything above Pillow's decompression-bomb threshold from the header, before decoding.
 */
const MAX_IMAGE_PIXELS = 89_478_485;
/** Photos are kept at most this long on their longest side (≈ 1,000 dpi across an ID card). */
export const MAX_IMAGE_SIDE = 4096;
export const MAX_PDF_PAGES = 10;
/** Pages an agent is asked to read per submission or answer, all its files together. */
export const MAX_PAGES_PER_UPLOAD = 20;
/** PDF pages are rendered at this resolution, and at most MAX_PAGE_SIDE pixels on either side. */
export const RENDER_DPI = 150;
export const MAX_PAGE_SIDE = 2000;

export type OriginalType = 'image/jpeg' | 'image/png' | 'application/pdf';
const ORIGINAL_TYPES: readonly OriginalType[] = ['image/jpeg', 'image/png', 'application/pdf'];

export type DocumentProblem =
	| 'empty'
	| 'too_large'
	| 'unknown_type'
	| 'type_mismatch'
	| 'malformed'
	| 'encrypted'
	| 'too_many_pages'
	/** Past a decoder's limit (pixels, the thread's memory): treated like running out of time. */
	| 'too_complex';

export interface UploadedFile {
	name: string;
	/** What the client declared; only ever compared, never trusted. */
	declaredType: string;
	bytes: Uint8Array;
}

interface RebuiltPage {
	contentType: 'image/png' | 'image/jpeg';
	/** The rebuilt image, never the upload's bytes. */
	bytes: Uint8Array;
	/** Of `bytes`. */
	sha256: string;
}

/** One rebuilt page of an upload: what is stored and shown (the interface with the document store). */
export interface CleanDocument extends RebuiltPage {
	/** Which upload (0-based, in the order sent) and which page of it (1-based) this is. */
	upload: number;
	page: number;
	/** Pages of that upload (1 for an image). */
	pages: number;
	/** What the upload was, by content. */
	original: OriginalType;
}

export type InspectResult =
	| { ok: true; original: OriginalType; pages: RebuiltPage[] }
	| { ok: false; problem: DocumentProblem; detected?: OriginalType };

export interface DocumentEngines {
	sharp: typeof import('sharp').default;
	mupdf: typeof import('mupdf');
}

type Rebuilt =
	{ ok: true; pages: Omit<RebuiltPage, 'sha256'>[] } | { ok: false; problem: DocumentProblem };

/** The kind of a document by its content: JPEG, PNG or PDF, else null. */
export async function detectDocumentType(bytes: Uint8Array): Promise<OriginalType | null> {
	const mime = (await fileTypeFromBuffer(bytes))?.mime;
	// An APNG is a PNG whose first frame every PNG decoder shows; that frame is what is kept.
	if (mime === 'image/apng') return 'image/png';
	return ORIGINAL_TYPES.find((type) => type === mime) ?? null;
}

// Names clients use for the three kinds; anything else declared is a lie about the content.
const DECLARED_ALIASES: Record<string, OriginalType> = {
	'image/jpeg': 'image/jpeg',
	'image/jpg': 'image/jpeg',
	'image/pjpeg': 'image/jpeg',
	'image/png': 'image/png',
	'application/pdf': 'application/pdf'
};
const UNDECLARED = new Set(['', 'application/octet-stream']);

function declaredTypeLies(declaredType: string, detected: OriginalType): boolean {
	const declared = declaredType.split(';')[0]!.trim().toLowerCase();
	return !UNDECLARED.has(declared) && DECLARED_ALIASES[declared] !== detected;
}

/** R19: one upload, checked by content and rebuilt from its pixels; or why it is refused. */
export async function inspectDocument(
	file: UploadedFile,
	engines: DocumentEngines
): Promise<InspectResult> {
	if (file.bytes.length === 0) return { ok: false, problem: 'empty' };
	if (file.bytes.length > MAX_DOCUMENT_BYTES) return { ok: false, problem: 'too_large' };
	const detected = await detectDocumentType(file.bytes);
	if (!detected) return { ok: false, problem: 'unknown_type' };
	if (declaredTypeLies(file.declaredType, detected))
		return { ok: false, problem: 'type_mismatch', detected };
	const rebuilt =
		detected === 'application/pdf'
			? renderPdf(engines.mupdf, file.bytes)
			: await rebuildImage(engines.sharp, file.bytes, detected);
	if (!rebuilt.ok) return { ok: false, problem: rebuilt.problem, detected };
	const pages = rebuilt.pages.map((page) => ({
		...page,
		sha256: createHash('sha256').update(page.bytes).digest('hex')
	}));
	return { ok: true, original: detected, pages };
}

/**
 * A photo decoded and encoded anew by libvips: turned upright by its EXIF orientation, then
 * written without any metadata (EXIF/GPS, XMP, IPTC, ICC, comments, text chunks: sharp keeps none
 * unless asked). A broken file fails the decoder's own checks (`failOn: 'warning'`).
 */
async function rebuildImage(
	sharp: DocumentEngines['sharp'],
	bytes: Uint8Array,
	type: 'image/jpeg' | 'image/png'
): Promise<Rebuilt> {
	try {
		const image = sharp(bytes, {
			limitInputPixels: MAX_IMAGE_PIXELS,
			autoOrient: true,
			sequentialRead: true,
			failOn: 'warning'
		}).resize({
			width: MAX_IMAGE_SIDE,
			height: MAX_IMAGE_SIDE,
			fit: 'inside',
			withoutEnlargement: true
		});
		const encoded = await (
			type === 'image/jpeg' ? image.jpeg({ quality: 90 }) : image.png()
		).toBuffer();
		return { ok: true, pages: [{ contentType: type, bytes: new Uint8Array(encoded) }] };
	} catch (error) {
		return { ok: false, problem: /pixel limit/i.test(String(error)) ? 'too_complex' : 'malformed' };
	}
}

class BrokenPage extends Error {}

/**
 * Each page of a PDF rendered by MuPDF to a PNG, at RENDER_DPI and at most MAX_PAGE_SIDE pixels.
 * MuPDF runs no JavaScript and follows no action or link while it renders; the PNG holds only
 * the page as it looks. A PDF that needs a password, has no page or more than MAX_PDF_PAGES, or
 * that MuPDF cannot open is refused.
 */
function renderPdf(mupdf: DocumentEngines['mupdf'], bytes: Uint8Array): Rebuilt {
	let document: InstanceType<typeof mupdf.Document>;
	try {
		document = mupdf.Document.openDocument(bytes, 'application/pdf');
	} catch (error) {
		return { ok: false, problem: outOfMemory(error) ? 'too_complex' : 'malformed' };
	}
	try {
		if (document.needsPassword()) return { ok: false, problem: 'encrypted' };
		const count = document.countPages();
		if (count === 0) return { ok: false, problem: 'malformed' };
		if (count > MAX_PDF_PAGES) return { ok: false, problem: 'too_many_pages' };
		const pages: Omit<RebuiltPage, 'sha256'>[] = [];
		for (let index = 0; index < count; index += 1)
			pages.push({ contentType: 'image/png', bytes: renderPage(mupdf, document, index) });
		return { ok: true, pages };
	} catch (error) {
		return { ok: false, problem: outOfMemory(error) ? 'too_complex' : 'malformed' };
	} finally {
		// WASM memory is freed now, not when the garbage collector gets to it.
		document.destroy();
		mupdf.emptyStore();
	}
}

function renderPage(
	mupdf: DocumentEngines['mupdf'],
	document: InstanceType<typeof mupdf.Document>,
	index: number
): Uint8Array {
	const page = document.loadPage(index);
	try {
		const [x0, y0, x1, y1] = page.getBounds();
		const longest = Math.max(x1 - x0, y1 - y0);
		if (!Number.isFinite(longest) || longest <= 0) throw new BrokenPage();
		const scale = Math.min(RENDER_DPI / 72, MAX_PAGE_SIDE / longest);
		// Annotations and form fields are drawn too (`showExtras`): they are part of what the page shows.
		const pixmap = page.toPixmap(
			mupdf.Matrix.scale(scale, scale),
			mupdf.ColorSpace.DeviceRGB,
			false,
			true
		);
		try {
			return pixmap.asPNG();
		} finally {
			pixmap.destroy();
		}
	} finally {
		page.destroy();
	}
}

/** MuPDF's answer when the thread's WASM heap limit (worker.ts) refuses more memory. */
function outOfMemory(error: unknown): boolean {
	return /malloc|out of memory/i.test(error instanceof Error ? error.message : String(error));
}
