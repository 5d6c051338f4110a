import { performance } from 'node:perf_hooks';
import { crc32, deflateSync } from 'node:zlib';

/**
 * Identity-document files for tests, built here byte by byte (nothing downloaded): PNGs, JPEGs
 * and PDFs that real decoders read, with the metadata, scripts and tricks attackers use.
 */

const cat = (...parts: (Uint8Array | string)[]) =>
	new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))));

export const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export function pngChunk(type: string, data: Uint8Array): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
	return Buffer.concat([head, data, crc]);
}

/** The chunk types of a PNG, in order. */
export function pngChunkTypes(bytes: Uint8Array): string[] {
	const types: string[] = [];
	const buffer = Buffer.from(bytes);
	for (let at = 8; at + 8 <= buffer.length; at += 12 + buffer.readUInt32BE(at)) types.push(buffer.toString('latin1', at + 4, at + 8));
	return types;
}

/**
 * A 2×2 RGB PNG. `metadata` adds what phones and editors write and a person would not want kept:
 * tEXt (an author and address), zTXt, iTXt (XMP with a GPS position), tIME and eXIf chunks.
 */
export function pngBytes(options: { metadata?: boolean } = {}): Uint8Array {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(2, 0);
	ihdr.writeUInt32BE(2, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // RGB
	const raw = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
	const chunks = [pngChunk('IHDR', ihdr)];
	if (options.metadata) {
		chunks.push(pngChunk('tEXt', Buffer.from('Author\0Zhang Wei, 12 Secret Road', 'latin1')));
		chunks.push(pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync('Scanned at 12 Secret Road')])));
		chunks.push(pngChunk('iTXt', Buffer.from('XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><exif:GPSLatitude>31,13.8N</exif:GPSLatitude></x:xmpmeta>', 'latin1')));
		chunks.push(pngChunk('tIME', Buffer.from([0x07, 0xea, 11, 26, 12, 0, 0])));
		chunks.push(pngChunk('eXIf', exifGps()));
	}
	chunks.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)));
	return cat(PNG_SIGNATURE, ...chunks);
}

/** A minimal big-endian TIFF/EXIF block: IFD0 with a GPS IFD pointer, the GPS IFD with a latitude. */
function exifGps(): Buffer {
	const b = Buffer.alloc(64);
	b.write('MM\0*', 0, 'latin1');
	b.writeUInt32BE(8, 4); // IFD0 at 8
	b.writeUInt16BE(1, 8); // one entry
	b.writeUInt16BE(0x8825, 10); // GPSInfo IFD pointer
	b.writeUInt16BE(4, 12); // LONG
	b.writeUInt32BE(1, 14);
	b.writeUInt32BE(26, 18); // GPS IFD at 26
	b.writeUInt32BE(0, 22); // no next IFD
	b.writeUInt16BE(1, 26);
	b.writeUInt16BE(0x0001, 28); // GPSLatitudeRef
	b.writeUInt16BE(2, 30); // ASCII
	b.writeUInt32BE(2, 32);
	b.write('N\0', 36, 'latin1');
	b.writeUInt32BE(0, 40);
	return b.subarray(0, 44);
}

export function jpegSegment(marker: number, data: Uint8Array): Buffer {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(data.length + 2, 2);
	return Buffer.concat([head, data]);
}

/**
 * A real baseline JPEG, 8×8 mid-grey, that any decoder reads: one quantisation table, one-code
 * Huffman tables, one block whose DC and AC are "nothing" (two 1-bit codes). `metadata` adds an
 * EXIF segment with GPS, XMP and a comment.
 */
export function jpegBytes(options: { metadata?: boolean } = {}): Uint8Array {
	const parts = [Buffer.from([0xff, 0xd8]), jpegSegment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'))];
	if (options.metadata) {
		parts.push(jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifGps()])));
		parts.push(jpegSegment(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Zhang Wei</x:xmpmeta>', 'latin1')));
		parts.push(jpegSegment(0xfe, Buffer.from('Scanned at 12 Secret Road', 'latin1')));
	}
	parts.push(jpegSegment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]))); // DQT
	parts.push(jpegSegment(0xc0, Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0]))); // SOF0 8×8, 1 component
	const oneCode = (tableClass: number) => Buffer.concat([Buffer.from([tableClass << 4, 1]), Buffer.alloc(15), Buffer.from([0])]);
	parts.push(jpegSegment(0xc4, Buffer.concat([oneCode(0), oneCode(1)]))); // DHT: DC and AC, symbol 0 = "0"
	parts.push(jpegSegment(0xda, Buffer.from([1, 1, 0, 0, 63, 0]))); // SOS
	parts.push(Buffer.from([0b0011_1111, 0xff, 0xd9])); // DC 0, EOB, padding; EOI
	return cat(...parts);
}

/** A JPEG as a phone writes it: camera make and model, the owner's name and a GPS position in EXIF. */
export async function jpegWithGpsExif(): Promise<Uint8Array> {
	const { default: sharp } = await import('sharp');
	const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
		.withExif({
			IFD0: { Make: 'PhoneCo', Model: 'X1 Pro', Artist: 'Zhang Wei' },
			IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 13/1 49/1', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 25/1' }
		})
		.jpeg({ quality: 90 })
		.toBuffer();
	return new Uint8Array(jpeg);
}

/** A photo of `bytes` size or a little less: random pixels, which JPEG and PNG cannot compress. */
export async function noiseImage(format: 'jpeg' | 'png', bytes: number): Promise<Uint8Array> {
	const { default: sharp } = await import('sharp');
	const encode = async (side: number) => {
		const raw = Buffer.alloc(side * side * 3);
		for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 2_654_435_761) >>> 24;
		const image = sharp(raw, { raw: { width: side, height: side, channels: 3 } });
		return new Uint8Array(await (format === 'jpeg' ? image.jpeg({ quality: 100 }) : image.png({ compressionLevel: 1 })).toBuffer());
	};
	// Bytes per pixel of this noise, measured, then one step down until it fits.
	const probe = await encode(256);
	let side = Math.floor(Math.sqrt(bytes / (probe.length / (256 * 256))));
	let out = await encode(side);
	while (out.length > bytes) out = await encode((side = Math.floor(side * 0.97)));
	return out;
}

export type PdfObject = string | { dictionary: string; stream: Uint8Array | string };

/**
 * A PDF from its objects (object n is `objects[n - 1]`), with a correct cross-reference table.
 * `trailer` adds entries to the trailer (e.g. `/Encrypt`); object 1 is the catalog.
 */
export function pdfOf(objects: PdfObject[], options: { trailer?: string; header?: string } = {}): Uint8Array {
	const parts: Uint8Array[] = [cat(options.header ?? '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')];
	let length = parts[0]!.length;
	const offsets: number[] = [];
	const push = (part: Uint8Array) => {
		parts.push(part);
		length += part.length;
	};
	for (const [i, object] of objects.entries()) {
		offsets.push(length);
		if (typeof object === 'string') {
			push(cat(`${i + 1} 0 obj\n${object}\nendobj\n`));
		} else {
			const stream = typeof object.stream === 'string' ? cat(object.stream) : object.stream;
			push(cat(`${i + 1} 0 obj\n<< ${object.dictionary} /Length ${stream.length} >>\nstream\n`, stream, '\nendstream\nendobj\n'));
		}
	}
	const xref = length;
	const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
	push(cat(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${rows}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${options.trailer ?? ''} >>\nstartxref\n${xref}\n%%EOF\n`));
	return cat(...parts);
}

/** A page's content: a blue bar and "Page n" in Helvetica, so a rendering is not blank. */
export const pageContent = (n: number) => `0.2 0.4 0.8 rg 20 20 160 30 re f BT /F1 24 Tf 40 120 Td (Page ${n}) Tj ET`;
export const FONT = '<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>';

/**
 * A PDF of `pages` pages (200 × 200 pt each). `catalog` adds entries to the catalog, `page` to
 * every page; `extra` objects follow the pages' objects (numbered from 3 + 2 × pages);
 * `padTo` pads it (inside a comment) to exactly that many bytes.
 */
export function pdfBytes(options: { pages?: number; catalog?: string; page?: string; extra?: PdfObject[]; padTo?: number; trailer?: string } = {}): Uint8Array {
	const pages = options.pages ?? 1;
	const kids = Array.from({ length: pages }, (_, i) => `${3 + 2 * i} 0 R`).join(' ');
	const objects: PdfObject[] = [`<< /Type /Catalog /Pages 2 0 R ${options.catalog ?? ''} >>`, `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`];
	for (let i = 0; i < pages; i += 1) {
		objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources ${FONT} /Contents ${4 + 2 * i} 0 R ${options.page ?? ''} >>`);
		objects.push({ dictionary: '', stream: pageContent(i + 1) });
	}
	objects.push(...(options.extra ?? []));
	const header = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
	// The padding is a comment line right after the header: the xref offsets move with it.
	return padded((pad) => pdfOf(objects, { trailer: options.trailer, header: pad > 0 ? `${header}%${'x'.repeat(pad - 2)}\n` : header }), options.padTo);
}

/** `build(pad)` grown by `pad` bytes so that it is exactly `padTo` long (offsets change digits). */
function padded(build: (pad: number) => Uint8Array, padTo: number | undefined): Uint8Array {
	const bare = build(0);
	if (!padTo || padTo <= bare.length + 2) return bare;
	let pad = padTo - bare.length;
	let bytes = build(pad);
	while (bytes.length !== padTo) bytes = build((pad += padTo - bytes.length));
	return bytes;
}

/** The object number `pdfBytes` gives the first of its `extra` objects. */
export const firstExtraObject = (pages = 1) => 3 + 2 * pages;

/**
 * R19 attack on the old regex PDF check: thousands of `stream` keywords with no `obj` between
 * them made its backward search quadratic (400 KB took 7 s on the event loop). Here they sit in a
 * string of an unused object of an otherwise harmless one-page PDF; `padTo` pads it to that size.
 */
export function quadraticPdf(options: { keywordBytes: number; padTo?: number }): Uint8Array {
	const keywords = 'stream\n'.repeat(Math.ceil(options.keywordBytes / 7));
	return padded((pad) => pdfBytes({ extra: [`(${keywords}${'x'.repeat(pad)})`] }), options.padTo);
}

export function htmlBytes(): Uint8Array {
	return new Uint8Array(Buffer.from('<!doctype html><script>alert(document.cookie)</script>'));
}

/** A File as a browser would send it, with the name and declared type the test chooses. */
export function fileOf(bytes: Uint8Array, name: string, type: string): File {
	return new File([Buffer.from(bytes)], name, { type });
}

/**
 * R19: the longest the event loop went without running a 5 ms timer while `work` ran: what a
 * `/healthz` probe or any other request would have waited. The gap up to the end counts too, so a
 * block right before `work` resolves is not missed.
 */
export async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
	let last = performance.now();
	let stallMs = 0;
	const tick = () => {
		const now = performance.now();
		stallMs = Math.max(stallMs, now - last);
		last = now;
	};
	const ping = setInterval(tick, 5);
	try {
		const result = await work();
		tick();
		return { result, stallMs };
	} finally {
		clearInterval(ping);
	}
}
