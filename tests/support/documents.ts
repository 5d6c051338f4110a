import { performance } from 'node:perf_hooks';
import { constants as zlib, crc32, deflateRawSync, deflateSync } from 'node:zlib';

/**
 * Identity-document files for tests, built here byte by byte (nothing downloaded): PNGs, JPEGs
 * and PDFs that real decoders read, with the metadata, scripts and tricks attackers use.
 */

const cat = (...parts: (Uint8Array | string)[]) =>
	new Uint8Array(
		Buffer.concat(
			parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))
		)
	);

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
	for (let at = 8; at + 8 <= buffer.length; at += 12 + buffer.readUInt32BE(at))
		types.push(buffer.toString('latin1', at + 4, at + 8));
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
		chunks.push(
			pngChunk(
				'zTXt',
				Buffer.concat([
					Buffer.from('Comment\0\0', 'latin1'),
					deflateSync('Scanned at 12 Secret Road')
				])
			)
		);
		chunks.push(
			pngChunk(
				'iTXt',
				Buffer.from(
					'XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><exif:GPSLatitude>31,13.8N</exif:GPSLatitude></x:xmpmeta>',
					'latin1'
				)
			)
		);
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
	const parts = [
		Buffer.from([0xff, 0xd8]),
		jpegSegment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'))
	];
	if (options.metadata) {
		parts.push(jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifGps()])));
		parts.push(
			jpegSegment(
				0xe1,
				Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Zhang Wei</x:xmpmeta>', 'latin1')
			)
		);
		parts.push(jpegSegment(0xfe, Buffer.from('Scanned at 12 Secret Road', 'latin1')));
	}
	parts.push(jpegSegment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]))); // DQT
	parts.push(jpegSegment(0xc0, Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0]))); // SOF0 8×8, 1 component
	const oneCode = (tableClass: number) =>
		Buffer.concat([Buffer.from([tableClass << 4, 1]), Buffer.alloc(15), Buffer.from([0])]);
	parts.push(jpegSegment(0xc4, Buffer.concat([oneCode(0), oneCode(1)]))); // DHT: DC and AC, symbol 0 = "0"
	parts.push(jpegSegment(0xda, Buffer.from([1, 1, 0, 0, 63, 0]))); // SOS
	parts.push(Buffer.from([0b0011_1111, 0xff, 0xd9])); // DC 0, EOB, padding; EOI
	return cat(...parts);
}

/** A JPEG as a phone writes it: camera make and model, the owner's name and a GPS position in EXIF. */
export async function jpegWithGpsExif(): Promise<Uint8Array> {
	const { default: sharp } = await import('sharp');
	const jpeg = await sharp({
		create: { width: 64, height: 48, channels: 3, background: '#336699' }
	})
		.withExif({
			IFD0: { Make: 'PhoneCo', Model: 'X1 Pro', Artist: 'Zhang Wei' },
			IFD3: {
				GPSLatitudeRef: 'N',
				GPSLatitude: '31/1 13/1 49/1',
				GPSLongitudeRef: 'E',
				GPSLongitude: '121/1 28/1 25/1'
			}
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
		return new Uint8Array(
			await (
				format === 'jpeg' ? image.jpeg({ quality: 100 }) : image.png({ compressionLevel: 1 })
			).toBuffer()
		);
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
export function pdfOf(
	objects: PdfObject[],
	options: { trailer?: string; header?: string } = {}
): Uint8Array {
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
			push(
				cat(
					`${i + 1} 0 obj\n<< ${object.dictionary} /Length ${stream.length} >>\nstream\n`,
					stream,
					'\nendstream\nendobj\n'
				)
			);
		}
	}
	const xref = length;
	const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
	push(
		cat(
			`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${rows}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${options.trailer ?? ''} >>\nstartxref\n${xref}\n%%EOF\n`
		)
	);
	return cat(...parts);
}

/** A page's content: a blue bar and "Page n" in Helvetica, so a rendering is not blank. */
export const pageContent = (n: number) =>
	`0.2 0.4 0.8 rg 20 20 160 30 re f BT /F1 24 Tf 40 120 Td (Page ${n}) Tj ET`;
export const FONT = '<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>';

/**
 * A PDF of `pages` pages (200 × 200 pt each). `catalog` adds entries to the catalog, `page` to
 * every page; `extra` objects follow the pages' objects (numbered from 3 + 2 × pages);
 * `padTo` pads it (inside a comment) to exactly that many bytes.
 */
export function pdfBytes(
	options: {
		pages?: number;
		catalog?: string;
		page?: string;
		extra?: PdfObject[];
		padTo?: number;
		trailer?: string;
	} = {}
): Uint8Array {
	const pages = options.pages ?? 1;
	const kids = Array.from({ length: pages }, (_, i) => `${3 + 2 * i} 0 R`).join(' ');
	const objects: PdfObject[] = [
		`<< /Type /Catalog /Pages 2 0 R ${options.catalog ?? ''} >>`,
		`<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`
	];
	for (let i = 0; i < pages; i += 1) {
		objects.push(
			`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources ${FONT} /Contents ${4 + 2 * i} 0 R ${options.page ?? ''} >>`
		);
		objects.push({ dictionary: '', stream: pageContent(i + 1) });
	}
	objects.push(...(options.extra ?? []));
	const header = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
	// The padding is a comment line right after the header: the xref offsets move with it.
	return padded(
		(pad) =>
			pdfOf(objects, {
				trailer: options.trailer,
				header: pad > 0 ? `${header}%${'x'.repeat(pad - 2)}\n` : header
			}),
		options.padTo
	);
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

/** A one-page A4 PDF as a scanner makes it: the page is one JPEG photo (DCTDecode) of `width × height`. */
export function scannedPdf(jpeg: Uint8Array, width: number, height: number): Uint8Array {
	return pdfOf([
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Scan 4 0 R >> >> /Contents 5 0 R >>',
		{
			dictionary: `/Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode`,
			stream: jpeg
		},
		{ dictionary: '', stream: 'q 595 0 0 842 0 0 cm /Scan Do Q' }
	]);
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

/* Hostile files. */

/** A PNG whose header (with a correct CRC) declares `width × height`; the data is one KB. */
export function pixelFloodPng(width: number, height: number): Uint8Array {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	return cat(
		PNG_SIGNATURE,
		pngChunk('IHDR', ihdr),
		pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
		pngChunk('IEND', Buffer.alloc(0))
	);
}

/** The test JPEG with its 8×8 frame header rewritten to `width × height`. */
export function jpegDeclaring(width: number, height: number): Uint8Array {
	const bytes = Buffer.from(jpegBytes());
	const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
	bytes.writeUInt16BE(height, sof + 5);
	bytes.writeUInt16BE(width, sof + 7);
	return new Uint8Array(bytes);
}

/** A one-entry ZIP archive (deflated), the shape of .docx/.apk/.jar files and zip bombs. */
export function zipOf(name: string, content: Buffer): Uint8Array {
	const data = deflateRawSync(content, { level: 9 });
	const nameBytes = Buffer.from(name);
	const local = Buffer.alloc(30);
	local.writeUInt32LE(0x04034b50, 0);
	local.writeUInt16LE(20, 4);
	local.writeUInt16LE(8, 8);
	local.writeUInt32LE(crc32(content), 14);
	local.writeUInt32LE(data.length, 18);
	local.writeUInt32LE(content.length, 22);
	local.writeUInt16LE(nameBytes.length, 26);
	const central = Buffer.alloc(46);
	central.writeUInt32LE(0x02014b50, 0);
	central.writeUInt16LE(20, 4);
	central.writeUInt16LE(20, 6);
	central.writeUInt16LE(8, 10);
	central.writeUInt32LE(crc32(content), 16);
	central.writeUInt32LE(data.length, 20);
	central.writeUInt32LE(content.length, 24);
	central.writeUInt16LE(nameBytes.length, 28);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(1, 8);
	end.writeUInt16LE(1, 10);
	end.writeUInt32LE(46 + nameBytes.length, 12);
	end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
	return cat(local, nameBytes, data, central, nameBytes, end);
}

const hex = (length: number, byte: number) => `<${Buffer.alloc(length, byte).toString('hex')}>`;

/** A PDF encrypted for a user password (RC4, 40 bit) that nobody gave: it opens for no one. */
export function encryptedPdf(): Uint8Array {
	const encrypt = `<< /Filter /Standard /V 1 /R 2 /O ${hex(32, 0x41)} /U ${hex(32, 0x42)} /P -4 >>`;
	return pdfBytes({
		extra: [encrypt],
		trailer: `/Encrypt ${firstExtraObject()} 0 R /ID [${hex(16, 1)} ${hex(16, 1)}]`
	});
}

/**
 * A one-page PDF whose page nests `depth` knockout transparency groups over the whole page:
 * each level needs its own page-sized buffers while the page renders (≈ 12 MB each at 2000 px).
 */
export function nestedGroupsPdf(depth: number): Uint8Array {
	const objects: PdfObject[] = [
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1000 1000] /Resources << /XObject << /G 5 0 R >> >> /Contents 4 0 R >>',
		{ dictionary: '', stream: '/G Do' }
	];
	for (let level = 0; level < depth; level += 1) {
		const inner = level < depth - 1 ? `/XObject << /G ${6 + level} 0 R >>` : '';
		objects.push({
			dictionary: `/Type /XObject /Subtype /Form /BBox [0 0 1000 1000] /Group << /S /Transparency /I true /K true >> /Resources << /ExtGState << /A << /ca 0.5 /BM /Multiply >> >> ${inner} >>`,
			stream: inner ? '/A gs 1 0 0 rg 0 0 1000 1000 re f /G Do' : '0 0 1 rg 0 0 1000 1000 re f'
		});
	}
	return pdfOf(objects);
}

/**
 * A PDF page showing `images` images, each of whose Flate data inflates to `width × height × 3`
 * bytes of zeros (gigabytes from a few MB): one compressed 16 MB block repeated, which a zlib
 * stream allows, then an empty final block and the right Adler-32.
 */
export function inflateBombPdf(width: number, height: number, images = 1): Uint8Array {
	const block = 16 * 1024 * 1024;
	const segment = deflateRawSync(Buffer.alloc(block), { level: 9, finishFlush: zlib.Z_SYNC_FLUSH });
	const count = Math.ceil((width * height * 3) / block);
	const adler = Buffer.alloc(4);
	adler.writeUInt32BE((((count * block) % 65521) * 65536 + 1) >>> 0);
	const data = cat(
		Buffer.from([0x78, 0xda]),
		...Array<Buffer>(count).fill(segment),
		Buffer.from([0x03, 0x00]),
		adler
	);
	const names = Array.from({ length: images }, (_, i) => `/Im${i} ${5 + i} 0 R`).join(' ');
	const draw = Array.from({ length: images }, (_, i) => `q 600 0 0 800 0 0 cm /Im${i} Do Q`).join(
		' '
	);
	return pdfOf([
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << /XObject << ${names} >> >> /Contents 4 0 R >>`,
		{ dictionary: '', stream: draw },
		...Array.from({ length: images }, () => ({
			dictionary: `/Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode`,
			stream: data
		}))
	]);
}

/** PNG "Up" predictor rows (what /DecodeParms << /Predictor 12 /Columns n >> undoes). */
function pngUpRows(data: Buffer, columns: number): Buffer {
	const padded = Buffer.concat([
		data,
		Buffer.alloc((columns - (data.length % columns)) % columns, 0x20)
	]);
	const rows: Buffer[] = [];
	for (let at = 0; at < padded.length; at += columns) {
		const row = Buffer.alloc(columns + 1);
		row[0] = 2;
		for (let i = 0; i < columns; i += 1)
			row[i + 1] = (padded[at + i]! - (at ? padded[at - columns + i]! : 0)) & 0xff;
		rows.push(row);
	}
	return Buffer.concat(rows);
}

/**
 * A PDF 1.5 whose catalog (with `catalog` entries) lives only inside a Flate-compressed object
 * stream, found through a cross-reference stream; `predictor` also puts the object stream behind
 * a PNG predictor, so inflating it alone shows no readable name.
 */
export function objectStreamPdf(
	catalog: string,
	options: { predictor?: boolean } = {}
): Uint8Array {
	const inner = Buffer.from(`1 0 << /Type /Catalog /Pages 2 0 R ${catalog} >>`, 'latin1');
	const data = deflateSync(options.predictor ? pngUpRows(inner, 8) : inner);
	const parms = options.predictor ? ' /DecodeParms << /Predictor 12 /Columns 8 >>' : '';
	const plain: [number, Uint8Array][] = [
		[2, cat('<< /Type /Pages /Kids [3 0 R] /Count 1 >>')],
		[
			3,
			cat(
				`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources ${FONT} /Contents 4 0 R >>`
			)
		],
		[4, cat(`<< /Length ${pageContent(1).length} >>\nstream\n${pageContent(1)}\nendstream`)],
		[
			5,
			cat(
				`<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode${parms} /Length ${data.length} >>\nstream\n`,
				data,
				'\nendstream'
			)
		]
	];
	const parts: Uint8Array[] = [cat('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n')];
	const offsets = new Map<number, number>();
	let length = parts[0]!.length;
	for (const [n, body] of plain) {
		offsets.set(n, length);
		const object = cat(`${n} 0 obj\n`, body, '\nendobj\n');
		parts.push(object);
		length += object.length;
	}
	offsets.set(6, length);
	// Cross-reference stream, /W [1 4 2]: object 1 is entry 0 of object stream 5.
	const entries = Buffer.alloc(7 * 7);
	const entry = (n: number, type: number, field2: number, field3: number) => {
		entries[n * 7] = type;
		entries.writeUInt32BE(field2, n * 7 + 1);
		entries.writeUInt16BE(field3, n * 7 + 5);
	};
	entry(0, 0, 0, 0xffff);
	entry(1, 2, 5, 0);
	for (const n of [2, 3, 4, 5, 6]) entry(n, 1, offsets.get(n)!, 0);
	parts.push(
		cat(
			`6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length ${entries.length} >>\nstream\n`,
			entries,
			`\nendstream\nendobj\nstartxref\n${length}\n%%EOF\n`
		)
	);
	return cat(...parts);
}

/**
 * R19: PDFs with active content, each of which a PDF reader would act on: scripts (plain, in
 * object streams, behind a predictor, with escaped names), launch and remote-go-to actions, a
 * link, an embedded executable, a form with XFA. Each must come back as page images only.
 */
export function activePdfs(): [string, Uint8Array][] {
	const extra = firstExtraObject();
	return [
		[
			'/OpenAction JavaScript in a plain object',
			pdfBytes({ catalog: '/OpenAction << /S /JavaScript /JS (app.alert(1)) >>' })
		],
		[
			'page-open JavaScript (/AA)',
			pdfBytes({ page: '/AA << /O << /S /JavaScript /JS (app.alert(2)) >> >>' })
		],
		[
			'JavaScript spelled with #xx name escapes',
			pdfBytes({ catalog: '/OpenAction << /S /J#61vaScript /J#53 (app.alert(3)) >>' })
		],
		[
			'/OpenAction JavaScript in a compressed object stream',
			objectStreamPdf('/OpenAction << /S /JavaScript /JS (app.alert(4)) >>')
		],
		[
			'/OpenAction JavaScript in an object stream behind a PNG predictor',
			objectStreamPdf('/OpenAction << /S /JavaScript /JS (app.alert(5)) >>', { predictor: true })
		],
		[
			'a /Launch action',
			pdfBytes({
				catalog: '/OpenAction << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>'
			})
		],
		[
			'a /GoToR action',
			pdfBytes({
				catalog: '/OpenAction << /S /GoToR /F (https://evil.example/x.pdf) /D [0 /Fit] >>'
			})
		],
		[
			'a /URI link annotation',
			pdfBytes({
				page: `/Annots [${extra} 0 R]`,
				extra: [
					'<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /Border [0 0 0] /A << /S /URI /URI (https://evil.example/phish) >> >>'
				]
			})
		],
		[
			'an embedded file',
			pdfBytes({
				catalog: `/Names << /EmbeddedFiles << /Names [(invoice.exe) ${extra} 0 R] >> >>`,
				extra: [
					`<< /Type /Filespec /F (invoice.exe) /EF << /F ${extra + 1} 0 R >> >>`,
					{
						dictionary: '/Type /EmbeddedFile',
						stream: 'MZ\x90\0 This program cannot be run in DOS mode.'
					}
				]
			})
		],
		[
			'an AcroForm with XFA and a field script',
			pdfBytes({
				catalog: `/AcroForm << /Fields [${extra} 0 R] /XFA ${extra + 1} 0 R /NeedAppearances true >>`,
				page: `/Annots [${extra} 0 R]`,
				extra: [
					'<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Zhang Wei) /Rect [20 60 180 90] /P 3 0 R /AA << /K << /S /JavaScript /JS (app.alert(6)) >> >> >>',
					{
						dictionary: '',
						stream:
							'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><script contentType="application/x-javascript">app.alert(7)</script></subform></template></xdp:xdp>'
					}
				]
			})
		]
	];
}

/** What no stored page may contain: the names of PDF active content, and the payloads above. */
export const ACTIVE_MARKERS = [
	'/JS',
	'/JavaScript',
	'/OpenAction',
	'/AA',
	'/Launch',
	'/GoToR',
	'/URI',
	'/EmbeddedFile',
	'/AcroForm',
	'/XFA',
	'app.alert',
	'evil.example',
	'cmd.exe',
	'%PDF'
];

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
export async function longestStall<T>(
	work: () => Promise<T>
): Promise<{ result: T; stallMs: number }> {
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
