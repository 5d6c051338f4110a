import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zlib, crc32, inflateSync } from 'node:zlib';

/**
 * R19 identity documents: the type is decided by the bytes (magic numbers and a structural walk),
 * never by the file name or the declared type; images lose their metadata (EXIF/GPS, XMP,
 * comments, text chunks) before they are stored; files get random names outside `static/`.
 */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
export const MAX_DOCUMENTS_PER_UPLOAD = 3;
/**
 * Pixel-flood guard: a 5 MB file may declare 65,535 × 65,535 pixels (17 GB decoded). Anything
 * above Pillow's decompression-bomb threshold is refused from the header alone, before any
 * viewer or thumbnailer ever decodes it.
 */
export const MAX_IMAGE_PIXELS = 89_478_485;

export type DocumentType = 'image/jpeg' | 'image/png' | 'application/pdf';

export type DocumentProblem =
	| 'unknown_type'
	| 'malformed'
	| 'type_mismatch'
	| 'active_content'
	| 'too_large'
	| 'empty';

export interface UploadedFile {
	name: string;
	/** What the client declared; only ever compared, never trusted. */
	declaredType: string;
	bytes: Uint8Array;
}

export interface CleanDocument {
	contentType: DocumentType;
	bytes: Uint8Array;
	sha256: string;
}

export type InspectResult =
	| { ok: true; document: CleanDocument }
	| { ok: false; problem: DocumentProblem; detected?: DocumentType };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
	return prefix.every((b, i) => bytes[i] === b);
}

export function sniffDocumentType(bytes: Uint8Array): DocumentType | null {
	if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
	if (startsWith(bytes, PNG_SIGNATURE)) return 'image/png';
	if (startsWith(bytes, [...Buffer.from('%PDF-')])) return 'application/pdf';
	return null;
}

// Names clients use for the three types; anything else declared is a lie about the content.
const DECLARED_ALIASES: Record<string, DocumentType> = {
	'image/jpeg': 'image/jpeg',
	'image/jpg': 'image/jpeg',
	'image/pjpeg': 'image/jpeg',
	'image/png': 'image/png',
	'application/pdf': 'application/pdf'
};
const UNDECLARED = new Set(['', 'application/octet-stream']);

export function inspectDocument(file: UploadedFile): InspectResult {
	if (file.bytes.length === 0) return { ok: false, problem: 'empty' };
	if (file.bytes.length > MAX_DOCUMENT_BYTES) return { ok: false, problem: 'too_large' };
	const detected = sniffDocumentType(file.bytes);
	if (!detected) return { ok: false, problem: 'unknown_type' };
	const declared = file.declaredType.split(';')[0]!.trim().toLowerCase();
	if (!UNDECLARED.has(declared) && DECLARED_ALIASES[declared] !== detected) {
		return { ok: false, problem: 'type_mismatch', detected };
	}
	let clean: Uint8Array | 'active_content' | null;
	if (detected === 'image/jpeg') clean = stripJpegMetadata(file.bytes);
	else if (detected === 'image/png') clean = stripPngMetadata(file.bytes);
	else clean = checkPdf(file.bytes);
	if (clean === 'active_content') return { ok: false, problem: 'active_content', detected };
	if (!clean) return { ok: false, problem: 'malformed', detected };
	// Polyglots: markup hidden inside the image data itself (what stripping cannot remove) would
	// render as a page if a browser ever sniffed the file; refuse rather than store it.
	if (detected !== 'application/pdf' && containsMarkup(clean)) return { ok: false, problem: 'active_content', detected };
	return {
		ok: true,
		document: { contentType: detected, bytes: clean, sha256: createHash('sha256').update(clean).digest('hex') }
	};
}

/**
 * Walks the JPEG segments up to the first scan and drops APP1–APP13, APP15 (EXIF with GPS, XMP,
 * IPTC, ICC, maker notes) and COM. APP0 (JFIF) and APP14 (Adobe colour transform) stay: decoders
 * need them and they say nothing about the person. Returns null when the structure is broken.
 */
export function stripJpegMetadata(bytes: Uint8Array): Uint8Array | null {
	const out: Uint8Array[] = [bytes.subarray(0, 2)];
	let i = 2;
	let frame = false;
	while (i < bytes.length) {
		if (bytes[i] !== 0xff) return null;
		while (bytes[i] === 0xff) i += 1;
		const marker = bytes[i];
		if (marker === undefined) return null;
		i += 1;
		if (marker === 0xd9) {
			out.push(Uint8Array.of(0xff, 0xd9));
			return concat(out);
		}
		if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
			out.push(Uint8Array.of(0xff, marker));
			continue;
		}
		if (i + 2 > bytes.length) return null;
		const length = (bytes[i]! << 8) | bytes[i + 1]!;
		if (length < 2 || i + length > bytes.length) return null;
		const segment = bytes.subarray(i - 2, i + length);
		// SOF0–SOF15 (not DHT C4, JPG C8, DAC CC): the frame header with the dimensions.
		if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
			if (length < 8) return null;
			const height = (bytes[i + 3]! << 8) | bytes[i + 4]!;
			const width = (bytes[i + 5]! << 8) | bytes[i + 6]!;
			if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) return null;
			frame = true;
		}
		if (marker === 0xda) {
			if (!frame) return null;
			// Start of scan: entropy-coded data (and any further scans) up to the end-of-image
			// marker. Inside entropy-coded data 0xFF is always followed by 0x00 or a restart
			// marker, so the first FF D9 is the real end; whatever was appended after it (an HTML
			// page, a ZIP archive) is dropped.
			const end = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(EOI, i + length);
			if (end === -1) return null;
			out.push(bytes.subarray(i - 2, end + 2));
			return concat(out);
		}
		const isMetadata = (marker >= 0xe1 && marker <= 0xed) || marker === 0xef || marker === 0xfe;
		if (!isMetadata) out.push(segment);
		i += length;
	}
	return null;
}

const EOI = Buffer.from([0xff, 0xd9]);

// Ancillary chunks that carry text, time or EXIF: dropped. Everything else the image needs stays.
const PNG_METADATA_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'eXIf']);

/** Walks the PNG chunks (checking each CRC) and drops text, time and EXIF chunks. */
export function stripPngMetadata(bytes: Uint8Array): Uint8Array | null {
	const out: Uint8Array[] = [bytes.subarray(0, 8)];
	let i = 8;
	let first = true;
	while (i + 12 <= bytes.length) {
		const view = new DataView(bytes.buffer, bytes.byteOffset + i);
		const length = view.getUint32(0);
		if (i + 12 + length > bytes.length) return null;
		const type = Buffer.from(bytes.subarray(i + 4, i + 8)).toString('latin1');
		if (!/^[A-Za-z]{4}$/.test(type)) return null;
		if (first) {
			if (type !== 'IHDR' || length !== 13) return null;
			const width = view.getUint32(8);
			const height = view.getUint32(12);
			if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) return null;
		}
		first = false;
		const crc = new DataView(bytes.buffer, bytes.byteOffset + i + 8 + length).getUint32(0);
		if (crc32(bytes.subarray(i + 4, i + 8 + length)) !== crc) return null;
		const chunk = bytes.subarray(i, i + 12 + length);
		if (!PNG_METADATA_CHUNKS.has(type)) out.push(chunk);
		i += 12 + length;
		if (type === 'IEND') return concat(out);
	}
	return null;
}

/**
 * PDFs are kept as sent (rewriting them needs a PDF library), so they are checked harder: a
 * header, an end-of-file marker, and no plain-text JavaScript or launch actions. Agents only ever
 * download them as attachments.
 */
function checkPdf(bytes: Uint8Array): Uint8Array | 'active_content' | null {
	if (!/^%PDF-[12]\.\d/.test(Buffer.from(bytes.subarray(0, 8)).toString('latin1'))) return null;
	const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 1024))).toString('latin1');
	if (!tail.includes('%%EOF')) return null;
	const text = Buffer.from(bytes).toString('latin1');
	if (hasActiveNames(text)) return 'active_content';
	// Dictionaries can also live compressed inside object streams (PDF 1.5+): inflate those
	// (bounded, so a deflate bomb is refused, not expanded) and look again.
	const objectStreams = findObjectStreams(bytes, text);
	if (objectStreams === null) return null;
	for (const decoded of objectStreams) if (hasActiveNames(decoded)) return 'active_content';
	return bytes;
}

// A PDF name may spell any byte as #xx: /J#61vaScript is /JavaScript to every reader.
const ACTIVE_NAME = /\/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData|GoToE)(?![A-Za-z0-9])/;

function hasActiveNames(text: string): boolean {
	return ACTIVE_NAME.test(decodeNameEscapes(text));
}

const MAX_OBJECT_STREAM_BYTES = 16 * 1024 * 1024;
/** How far before a `stream` keyword its dictionary is looked for. */
const DICTIONARY_WINDOW = 4096;

// "/ObjStm" as a reader decodes it, found in the raw text: any of its bytes may be spelled #xx.
const OBJSTM_NAME = /(?:\/|#2[fF])(?:O|#4[fF])(?:b|#62)(?:j|#6[aA])(?:S|#53)(?:t|#74)(?:m|#6[dD])/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

const hexValue = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/** #xx → the byte it spells, in one loop (a replace callback per escape took 1.5 s on 5 MB of them). */
function decodeNameEscapes(text: string): string {
	if (!text.includes('#')) return text;
	// The text is latin1, one byte per character, and decoding only ever shortens it.
	const out = Buffer.allocUnsafe(text.length);
	let length = 0;
	for (let i = 0; i < text.length; i += 1) {
		const c = text.charCodeAt(i);
		const high = c === 0x23 ? hexValue(text.charCodeAt(i + 1)) : -1;
		const low = high === -1 ? -1 : hexValue(text.charCodeAt(i + 2));
		if (low === -1) {
			out[length++] = c;
		} else {
			out[length++] = high * 16 + low;
			i += 2;
		}
	}
	return out.toString('latin1', 0, length);
}

/** Whether the (decoded) character at `at` continues a PDF name, so `/ObjStm` there is `/ObjStmX`. */
function continuesName(text: string, at: number): boolean {
	const escaped = text[at] === '#' && HEX_PAIR.test(text.slice(at + 1, at + 3));
	const char = escaped ? String.fromCharCode(parseInt(text.slice(at + 1, at + 3), 16)) : (text[at] ?? '');
	return /^[A-Za-z0-9]$/.test(char);
}

/** The first `/Filter` value of a decoded dictionary (`/Name` or `[...]`), or '' when there is none. */
function firstFilter(dictionary: string): string {
	let noClosingBracket = false;
	for (let at = dictionary.indexOf('/Filter'); at !== -1; at = dictionary.indexOf('/Filter', at + 1)) {
		let i = at + 7;
		while (i < dictionary.length && /\s/.test(dictionary[i]!)) i += 1;
		if (dictionary[i] === '[' && !noClosingBracket) {
			const close = dictionary.indexOf(']', i);
			if (close !== -1) return dictionary.slice(i, close + 1);
			// No later array can close either: remembered, so this stays one pass.
			noClosingBracket = true;
		} else if (dictionary[i] === '/') {
			const name = /\/[A-Za-z0-9]+/y;
			name.lastIndex = i;
			const found = name.exec(dictionary)?.[0];
			if (found) return found;
		}
	}
	return '';
}

/**
 * Decoded object streams, or null when one cannot be inspected (unknown filter, bomb, broken).
 *
 * R19: one forward pass. Each `stream` keyword's dictionary is the text since the last `obj`
 * (at most DICTIONARY_WINDOW back); the last `obj` and the /ObjStm names are followed as the scan
 * moves instead of searched for backwards from every keyword, which made 400 KB of keywords
 * take seconds and 5 MB an hour. Only a dictionary that names /ObjStm is decoded, and at most
 * as much dictionary text as the file holds: each object stream has its own `obj`, so real
 * dictionaries never overlap, and a file that makes the check re-read one window for thousands
 * of keywords (an /ObjStm before `stream`/`endstream` pairs) is refused as uninspectable.
 */
function findObjectStreams(bytes: Uint8Array, text: string): string[] | null {
	const decoded: string[] = [];
	let budget = MAX_OBJECT_STREAM_BYTES;
	let dictionaryBudget = text.length;
	const streamKeyword = /stream\r?\n/g;
	const objStm = new RegExp(OBJSTM_NAME.source, 'g');
	// The last `obj` starting at or before the keyword, and the next one after it.
	let lastObj = -1;
	let nextObj = text.indexOf('obj');
	// /ObjStm names ending at or before the keyword: the newest, the newest not continued by a name
	// character, and the first one further on.
	let newest: { start: number; end: number } | null = null;
	let newestWhole = -1;
	let pending = objStm.exec(text);
	let match: RegExpExecArray | null;
	while ((match = streamKeyword.exec(text))) {
		const at = match.index;
		if (text.slice(at - 3, at) === 'end') continue;
		while (nextObj !== -1 && nextObj <= at) {
			lastObj = nextObj;
			nextObj = text.indexOf('obj', nextObj + 1);
		}
		while (pending && pending.index + pending[0].length <= at) {
			newest = { start: pending.index, end: pending.index + pending[0].length };
			if (!continuesName(text, newest.end)) newestWhole = newest.start;
			pending = objStm.exec(text);
		}
		const dictionaryStart = Math.max(lastObj, at - DICTIONARY_WINDOW, 0);
		// A name right before the keyword ends the dictionary, so nothing can continue it.
		const namesObjStm = newestWhole >= dictionaryStart || (newest !== null && newest.end === at && newest.start >= dictionaryStart);
		if (!namesObjStm) continue;
		dictionaryBudget -= at - dictionaryStart;
		if (dictionaryBudget < 0) return null;
		const dictionary = decodeNameEscapes(text.slice(dictionaryStart, at));
		const start = at + match[0].length;
		const end = text.indexOf('endstream', start);
		if (end === -1) return null;
		const names = firstFilter(dictionary).match(/\/[A-Za-z0-9]+/g) ?? [];
		if (names.length > 1 || (names.length === 1 && names[0] !== '/FlateDecode')) return null;
		const raw = bytes.subarray(start, end);
		if (budget <= 0) return null;
		try {
			const out = names.length === 0 ? Buffer.from(raw) : inflateSync(raw, { maxOutputLength: budget, finishFlush: zlib.Z_SYNC_FLUSH });
			budget -= out.length;
			decoded.push(out.toString('latin1'));
		} catch {
			return null;
		}
		streamKeyword.lastIndex = end;
	}
	return decoded;
}

// Long enough tags that compressed image data practically never spells them by chance.
const MARKUP = /<(script|html|body|iframe|object|embed)[\s>\/]|<!doctype\s+html/i;

function containsMarkup(bytes: Uint8Array): boolean {
	return MARKUP.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
}

function concat(parts: Uint8Array[]): Uint8Array {
	return new Uint8Array(Buffer.concat(parts));
}

/** A random, unguessable storage name; the extension is ours, from the detected type. */
export function newStorageKey(type: DocumentType): string {
	const ext = type === 'image/jpeg' ? 'jpg' : type === 'image/png' ? 'png' : 'pdf';
	return `${randomBytes(24).toString('base64url')}.${ext}`;
}

function pathFor(dir: string, key: string): string {
	if (!/^[A-Za-z0-9_-]{32}\.(jpg|png|pdf)$/.test(key)) throw new Error('invalid storage key');
	return join(dir, key);
}

export async function writeDocumentFile(dir: string, key: string, bytes: Uint8Array): Promise<void> {
	await mkdir(dir, { recursive: true, mode: 0o700 });
	// `wx`: never overwrite; 0600: readable by the server only.
	await writeFile(pathFor(dir, key), bytes, { flag: 'wx', mode: 0o600 });
}

export async function readDocumentFile(dir: string, key: string): Promise<Uint8Array | null> {
	try {
		return new Uint8Array(await readFile(pathFor(dir, key)));
	} catch {
		return null;
	}
}

export async function removeDocumentFile(dir: string, key: string): Promise<void> {
	await unlink(pathFor(dir, key)).catch((error: NodeJS.ErrnoException) => {
		if (error.code !== 'ENOENT') throw error;
	});
}
