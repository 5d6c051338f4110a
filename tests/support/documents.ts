import { performance } from 'node:perf_hooks';
import { crc32, deflateSync } from 'node:zlib';

/** Real, tiny identity-document files for tests: a PNG, a JPEG and a PDF built byte by byte. */

function pngChunk(type: string, data: Uint8Array): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
	return Buffer.concat([head, data, crc]);
}

/** A 2×2 RGB PNG; `metadata` adds tEXt (an author), tIME and eXIf chunks to be stripped. */
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
		chunks.push(pngChunk('tIME', Buffer.from([0x07, 0xea, 11, 26, 12, 0, 0])));
		chunks.push(pngChunk('eXIf', Buffer.from('MM\0*GPS 31.2304N 121.4737E', 'latin1')));
	}
	chunks.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)));
	return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]));
}

function jpegSegment(marker: number, data: Uint8Array): Buffer {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(data.length + 2, 2);
	return Buffer.concat([head, data]);
}

/** A structurally valid baseline JPEG; `metadata` adds EXIF (with GPS text), XMP and a comment. */
export function jpegBytes(options: { metadata?: boolean } = {}): Uint8Array {
	const parts = [Buffer.from([0xff, 0xd8]), jpegSegment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'))];
	if (options.metadata) {
		parts.push(jpegSegment(0xe1, Buffer.from('Exif\0\0GPSLatitude 31.2304N', 'latin1')));
		parts.push(jpegSegment(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Zhang Wei</x:xmpmeta>', 'latin1')));
		parts.push(jpegSegment(0xfe, Buffer.from('Scanned at 12 Secret Road', 'latin1')));
	}
	parts.push(jpegSegment(0xdb, Buffer.alloc(65, 1))); // DQT
	parts.push(jpegSegment(0xc0, Buffer.from([8, 0, 1, 0, 1, 1, 1, 0x11, 0]))); // SOF0 1×1, 1 component
	parts.push(jpegSegment(0xc4, Buffer.concat([Buffer.from([0]), Buffer.alloc(16, 0), Buffer.alloc(0)]))); // DHT
	parts.push(jpegSegment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0]))); // SOS
	parts.push(Buffer.from([0x7f, 0xa0, 0xff, 0x00, 0x12, 0xff, 0xd9]));
	return new Uint8Array(Buffer.concat(parts));
}

/** A one-page PDF; `padTo` pads it (inside a comment) to exactly that many bytes. */
export function pdfBytes(options: { padTo?: number; javascript?: boolean } = {}): Uint8Array {
	const action = options.javascript ? ' /OpenAction << /S /JavaScript /JS (app.alert(1)) >>' : '';
	const head = `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R${action} >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n`;
	const tail = '%%EOF\n';
	const pad = options.padTo ? Math.max(0, options.padTo - head.length - tail.length - 2) : 0;
	const body = pad > 0 ? `${head}%${'x'.repeat(pad)}\n` : head;
	return new Uint8Array(Buffer.from(body + tail, 'latin1'));
}

/**
 * R19 attack on the old PDF check: a block of `stream` keywords with no `obj` between them, so a
 * backward search per keyword made the check quadratic (400 KB took 7 s on the event loop). An
 * `obj` sits right before the block, so the old cost is the block's size squared whatever the
 * padding; `padTo` pads it (inside a comment, before the block) to exactly that many bytes. The
 * file is otherwise a harmless, well-formed PDF.
 */
export function quadraticPdf(options: { keywordBytes: number; padTo?: number }): Uint8Array {
	const head = '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n';
	const block = `3 0 obj\n${'stream\n'.repeat(Math.ceil(options.keywordBytes / 7))}`;
	const tail = 'trailer << /Root 1 0 R >>\n%%EOF\n';
	const pad = options.padTo ? Math.max(0, options.padTo - head.length - block.length - tail.length - 2) : 0;
	return new Uint8Array(Buffer.from(`${head}${pad > 0 ? `%${'x'.repeat(pad)}\n` : ''}${block}${tail}`, 'latin1'));
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
