import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { inspectDocument, MAX_DOCUMENT_BYTES, sniffDocumentType, stripJpegMetadata, stripPngMetadata } from '../../src/lib/server/documents';
import { htmlBytes, jpegBytes, pdfBytes, pngBytes, quadraticPdf } from '../support/documents';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

describe('R19 documents: type by content', () => {
	it('sniffs JPEG, PNG and PDF by their magic bytes, nothing else', () => {
		expect(sniffDocumentType(jpegBytes())).toBe('image/jpeg');
		expect(sniffDocumentType(pngBytes())).toBe('image/png');
		expect(sniffDocumentType(pdfBytes())).toBe('application/pdf');
		expect(sniffDocumentType(htmlBytes())).toBeNull();
	});

	it('refuses an HTML file named .jpg and declared image/jpeg', () => {
		expect(inspectDocument({ name: 'passport.jpg', declaredType: 'image/jpeg', bytes: htmlBytes() })).toEqual({ ok: false, problem: 'unknown_type' });
	});

	it('refuses a PNG whose declared Content-Type lies (application/pdf)', () => {
		expect(inspectDocument({ name: 'id.pdf', declaredType: 'application/pdf', bytes: pngBytes() })).toMatchObject({ ok: false, problem: 'type_mismatch', detected: 'image/png' });
	});

	it('accepts a PNG declared as octet-stream or with no type: the content decides', () => {
		expect(inspectDocument({ name: 'scan', declaredType: 'application/octet-stream', bytes: pngBytes() })).toMatchObject({ ok: true, document: { contentType: 'image/png' } });
		expect(inspectDocument({ name: 'scan', declaredType: '', bytes: jpegBytes() })).toMatchObject({ ok: true, document: { contentType: 'image/jpeg' } });
	});

	it('refuses a PDF over 5 MB and accepts one of exactly 5 MB', () => {
		expect(inspectDocument({ name: 'big.pdf', declaredType: 'application/pdf', bytes: pdfBytes({ padTo: MAX_DOCUMENT_BYTES + 1 }) })).toEqual({ ok: false, problem: 'too_large' });
		expect(inspectDocument({ name: 'max.pdf', declaredType: 'application/pdf', bytes: pdfBytes({ padTo: MAX_DOCUMENT_BYTES }) })).toMatchObject({ ok: true });
	});

	it('refuses a PDF with JavaScript, and truncated images', () => {
		expect(inspectDocument({ name: 'x.pdf', declaredType: 'application/pdf', bytes: pdfBytes({ javascript: true }) })).toMatchObject({ ok: false, problem: 'active_content' });
		expect(inspectDocument({ name: 'x.png', declaredType: 'image/png', bytes: pngBytes().subarray(0, 40) })).toMatchObject({ ok: false, problem: 'malformed' });
		expect(inspectDocument({ name: 'x.jpg', declaredType: 'image/jpeg', bytes: jpegBytes().subarray(0, 30) })).toMatchObject({ ok: false, problem: 'malformed' });
	});
});

describe('R19 documents: metadata stripped', () => {
	it('drops EXIF/GPS, XMP and comments from a JPEG and keeps the image segments', () => {
		const original = jpegBytes({ metadata: true });
		expect(text(original)).toContain('GPSLatitude');
		const clean = stripJpegMetadata(original)!;
		expect(text(clean)).not.toMatch(/GPSLatitude|xmpmeta|Secret Road/);
		expect(text(clean)).toContain('JFIF');
		expect(Buffer.from(clean).equals(Buffer.from(jpegBytes()))).toBe(true);
	});

	it('drops tEXt, tIME and eXIf chunks from a PNG and keeps a valid PNG', () => {
		const clean = stripPngMetadata(pngBytes({ metadata: true }))!;
		expect(text(clean)).not.toMatch(/Author|GPS|tIME/);
		expect(Buffer.from(clean).equals(Buffer.from(pngBytes()))).toBe(true);
	});

	it('refuses a PNG with a broken chunk checksum', () => {
		const bytes = pngBytes();
		bytes[20] = bytes[20]! ^ 0xff;
		expect(stripPngMetadata(bytes)).toBeNull();
	});
});

describe('R19 documents: the PDF check is linear', () => {
	const pdf = (...parts: (string | Uint8Array)[]) => ({ name: 'x.pdf', declaredType: 'application/pdf', bytes: new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))) });
	const objectStream = (dictionary: string, inner: string) => {
		const data = deflateSync(Buffer.from(`1 0 ${inner}`, 'latin1'));
		return pdf(`%PDF-1.5\n4 0 obj\n<< ${dictionary} /Length ${data.length} >>\nstream\n`, data, '\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
	};
	const catalogWithJs = '<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>';

	it('R19: 256 KB of `stream` keywords (about 10 s for the old backward search) are checked in under 500 ms', () => {
		const bytes = quadraticPdf({ keywordBytes: 256 * 1024 });
		const started = performance.now();
		expect(inspectDocument({ name: 'x.pdf', declaredType: 'application/pdf', bytes })).toMatchObject({ ok: true });
		expect(performance.now() - started).toBeLessThan(500);
	});

	it.each([
		['a plain object stream', '/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode'],
		['/ObjStm spelled with #xx escapes', '/Type /O#62j#53tm /N 1 /First 4 /F#69lter /Fl#61teDecode'],
		['a filter array', '/Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode]'],
		['a `stream` keyword inside a string before the real one', '/Filter /FlateDecode /Note (stream\n) /Type /ObjStm /N 1 /First 4']
	])('R19: JavaScript hidden in %s is still found', (_, dictionary) => {
		expect(inspectDocument(objectStream(dictionary, catalogWithJs))).toMatchObject({ ok: false, problem: 'active_content' });
		expect(inspectDocument(objectStream(dictionary, '<< /Type /Catalog >>'))).toMatchObject({ ok: true });
	});

	it('R19: an object stream with a filter it cannot decode is refused, not waved through', () => {
		expect(inspectDocument(objectStream('/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode', catalogWithJs))).toMatchObject({ ok: false, problem: 'malformed' });
	});
});
