import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { performance } from 'node:perf_hooks';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';
import { POST as requestCode } from '../../src/routes/api/v1/verifications/+server';
import { GET as healthz } from '../../src/routes/healthz/+server';
import { GET as documentRoute } from '../../src/routes/support/documents/[id]/+server';
import { appealForAgent } from '../../src/lib/server/appeals/queue';
import { inspectUploads } from '../../src/lib/server/appeals/uploads';
import { readDocument } from '../../src/lib/server/appeals/documents/store';
import {
	MAX_DOCUMENT_BYTES,
	MAX_PAGES_PER_UPLOAD,
	MAX_PDF_PAGES
} from '../../src/lib/server/appeals/documents/inspect';
import {
	MAX_BUFFERED_UPLOAD_BYTES,
	MAX_MULTIPART_BYTES
} from '../../src/lib/server/http/multipart';
import { createSession, generateSessionToken } from '../../src/lib/server/accounts/sessions';
import type { Agent } from '../../src/lib/server/support/agents';
import {
	createAgentSession,
	generateAgentSessionToken
} from '../../src/lib/server/support/agent-sessions';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { makeAgent, requestDocument, statusOf } from '../support/agents';
import { appealForm, nextAddress, storedDocuments } from '../support/appeals';
import { latestCode } from '../support/codes';
import {
	ACTIVE_MARKERS,
	activePdfs,
	encryptedPdf,
	fileOf,
	htmlBytes,
	inflateBombPdf,
	jpegBytes,
	jpegDeclaring,
	jpegWithGpsExif,
	latin1,
	longestStall,
	noiseImage,
	pdfBytes,
	pixelFloodPng,
	pngBytes,
	pngChunk,
	PNG_SIGNATURE,
	quadraticPdf,
	scannedPdf,
	zipOf
} from '../support/documents';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';

/**
 * R19: hostile uploads through the real POST /api/v1/appeals handler. Each one is either refused
 * with a stable code, leaving nothing behind (no appeal row, no document row, no content), or
 * disarmed: what is stored is only page images rebuilt from its pixels, never the upload, and
 * agents see those (R22).
 */

const cat = (...parts: (Uint8Array | string)[]) =>
	new Uint8Array(
		Buffer.concat(
			parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))
		)
	);
const HTML = '<html><script>alert(document.cookie)</script></html>';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const isImage = (bytes: Uint8Array) =>
	Buffer.from(bytes.subarray(0, 8)).equals(Buffer.from(PNG_SIGNATURE)) ||
	(bytes[0] === 0xff && bytes[1] === 0xd8);

/** The test PNG with a chunk of `type` carrying `text` before IEND. */
function pngWithChunk(type: string, text: string): Uint8Array {
	const png = Buffer.from(pngBytes());
	const iend = png.length - 12;
	return cat(
		png.subarray(0, iend),
		pngChunk(type, Buffer.from(text, 'latin1')),
		png.subarray(iend)
	);
}

/** The JPEG with markup inside its entropy-coded data (after SOS, before EOI). */
function jpegWithMarkupInScan(): Uint8Array {
	const bytes = Buffer.from(jpegBytes());
	const eoi = bytes.length - 2;
	return cat(bytes.subarray(0, eoi), HTML, bytes.subarray(eoi));
}

/** The JPEG with an HTML page as a comment segment. */
function jpegWithMarkupInComment(): Uint8Array {
	const original = Buffer.from(jpegBytes());
	const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from(HTML)]);
	comment.writeUInt16BE(HTML.length + 2, 2);
	return cat(original.subarray(0, 2), comment, original.subarray(2));
}

/**
 * A multipart body written byte by byte, so names with NUL, quotes and `../` and any declared
 * type reach the server exactly as a hostile client would send them.
 */
function rawMultipart(
	fields: Record<string, string>,
	files: { name: string; type: string; bytes: Uint8Array }[]
) {
	const boundary = `----asc${Math.random().toString(16).slice(2)}`;
	const parts: Buffer[] = [];
	for (const [k, v] of Object.entries(fields))
		parts.push(
			Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
		);
	for (const f of files) {
		parts.push(
			Buffer.from(
				`--${boundary}\r\nContent-Disposition: form-data; name="documents"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
				'latin1'
			),
			Buffer.from(f.bytes),
			Buffer.from('\r\n')
		);
	}
	parts.push(Buffer.from(`--${boundary}--\r\n`));
	return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe.each(testDatabases)('upload attacks on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});

	const count = async (table: 'appeals' | 'appeal_documents') =>
		Number(
			(
				await database.db
					.selectFrom(table)
					.select((eb) => eb.fn.countAll().as('n'))
					.executeTakeFirstOrThrow()
			).n
		);

	/** A proven new contact and the text fields of an appeal for a real account. */
	async function provenFields() {
		const account = await insertAccount(database.db);
		const newIdentifier = uniqueEmail('new');
		const clientAddress = nextAddress();
		expect(
			(
				await callEndpoint(requestCode, app, {
					json: { identifier: newIdentifier, purpose: 'appeal' },
					clientAddress
				})
			).status
		).toBe(202);
		const code = await latestCode(database.db, newIdentifier);
		return {
			clientAddress,
			fields: {
				identifier: account.email!,
				newIdentifier,
				newIdentifierCode: code,
				description: 'I lost my phone with the SIM card in Shanghai last week.'
			}
		};
	}

	async function submitRaw(files: { name: string; type: string; bytes: Uint8Array }[]) {
		const { fields, clientAddress } = await provenFields();
		const { body, contentType } = rawMultipart(fields, files);
		return callEndpoint(submit, app, {
			body,
			headers: { 'content-type': contentType },
			clientAddress
		});
	}

	async function snapshot() {
		return {
			appeals: await count('appeals'),
			documents: await count('appeal_documents'),
			contents: await storedDocuments(database.db)
		};
	}

	/** Refused with 400/413 and a stable code, a human message naming the field, and nothing stored. */
	async function expectRefused(
		response: Response,
		before: Awaited<ReturnType<typeof snapshot>>,
		expected: { status?: number; code: string }
	) {
		expect(response.status).toBe(expected.status ?? 400);
		const body = await response.json();
		expect(body.error.code).toBe(expected.code);
		expect(body.error.message.length).toBeGreaterThan(10);
		expect(body.error.fields).toHaveProperty('documents');
		expect(await snapshot()).toEqual(before);
		return body;
	}

	/** What was stored for an accepted appeal: each row with its decrypted content, in page order. */
	async function storedPages(response: Response) {
		expect(response.status).toBe(201);
		const { reference } = (await response.json()) as { reference: string };
		const appeal = await database.db
			.selectFrom('appeals')
			.select('id')
			.where('reference', '=', reference)
			.executeTakeFirstOrThrow();
		const rows = await database.db
			.selectFrom('appeal_documents')
			.select([
				'id',
				'content_type',
				'upload_index',
				'page',
				'pages',
				'original_type',
				'sha256',
				'storage_key'
			])
			.where('appeal_id', '=', appeal.id)
			.orderBy('upload_index')
			.orderBy('page')
			.execute();
		return Promise.all(
			rows.map(async (row) => ({
				...row,
				appealId: appeal.id,
				bytes: (await readDocument(app, row.id))!
			}))
		);
	}

	const refusals: [string, { name: string; type: string; bytes: () => Uint8Array }][] = [
		['HTML renamed .jpg', { name: 'passport.jpg', type: 'image/jpeg', bytes: htmlBytes }],
		['HTML renamed .pdf', { name: 'passport.pdf', type: 'application/pdf', bytes: htmlBytes }],
		[
			'JPEG magic followed straight by <html><script>',
			{
				name: 'passport.jpg',
				type: 'image/jpeg',
				bytes: () => cat(Buffer.from([0xff, 0xd8, 0xff]), HTML)
			}
		],
		[
			'SVG named .png and declared image/png',
			{
				name: 'selfie.png',
				type: 'image/png',
				bytes: () =>
					cat(
						`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`
					)
			}
		],
		[
			'SVG named .jpg',
			{
				name: 'selfie.jpg',
				type: 'image/jpeg',
				bytes: () => cat(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(2)</script></svg>`)
			}
		],
		[
			'SVG declared image/svg+xml',
			{
				name: 'selfie.svg',
				type: 'image/svg+xml',
				bytes: () => cat(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(2)</script></svg>`)
			}
		],
		[
			'a ZIP archive renamed .pdf',
			{
				name: 'id.pdf',
				type: 'application/pdf',
				bytes: () => zipOf('passport.pdf', Buffer.from(pdfBytes()))
			}
		],
		[
			'a ZIP archive renamed .jpg',
			{
				name: 'id.jpg',
				type: 'image/jpeg',
				bytes: () => zipOf('passport.jpg', Buffer.from(jpegBytes()))
			}
		],
		[
			'a zip bomb (64 MB of zeros) renamed .pdf',
			{
				name: 'id.pdf',
				type: 'application/pdf',
				bytes: () => zipOf('a.bin', Buffer.alloc(64 * 1024 * 1024))
			}
		],
		[
			'the EICAR test string renamed .pdf',
			{ name: 'id.pdf', type: 'application/pdf', bytes: () => cat(EICAR) }
		],
		[
			'the EICAR test string renamed .jpg',
			{ name: 'id.jpg', type: 'image/jpeg', bytes: () => cat(EICAR) }
		],
		[
			'PNG header declaring 65,535 × 65,535 (pixel flood)',
			{ name: 'id.png', type: 'image/png', bytes: () => pixelFloodPng(65_535, 65_535) }
		],
		[
			'PNG header declaring 2^31 × 1',
			{ name: 'id.png', type: 'image/png', bytes: () => pixelFloodPng(2 ** 31, 1) }
		],
		[
			'JPEG frame declaring 65,535 × 65,535 (pixel flood)',
			{ name: 'id.jpg', type: 'image/jpeg', bytes: () => jpegDeclaring(65_535, 65_535) }
		],
		[
			'a PDF encrypted for a password',
			{ name: 'id.pdf', type: 'application/pdf', bytes: encryptedPdf }
		],
		[
			`a PDF of ${MAX_PDF_PAGES + 1} pages`,
			{
				name: 'id.pdf',
				type: 'application/pdf',
				bytes: () => pdfBytes({ pages: MAX_PDF_PAGES + 1 })
			}
		],
		[
			'a PDF with no cross-reference, catalog or page',
			{
				name: 'id.pdf',
				type: 'application/pdf',
				bytes: () => cat('%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n')
			}
		],
		[
			'a JPEG declared application/pdf (lying Content-Type)',
			{ name: 'id.pdf', type: 'application/pdf', bytes: jpegBytes }
		],
		[
			'a PDF declared image/png (lying Content-Type)',
			{ name: 'id.png', type: 'image/png', bytes: pdfBytes }
		],
		[
			'a PNG declared text/html (lying Content-Type)',
			{ name: 'id.png', type: 'text/html', bytes: pngBytes }
		],
		[
			'a PNG declared image/svg+xml (lying Content-Type)',
			{ name: 'id.png', type: 'image/svg+xml', bytes: pngBytes }
		]
	];

	it.each(refusals)('R19: %s is refused with invalid_document, nothing stored', async (_, file) => {
		const before = await snapshot();
		const started = performance.now();
		const response = await submitRaw([{ name: file.name, type: file.type, bytes: file.bytes() }]);
		// Decided from content and headers: no pixel buffer, no archive expanded, no bomb inflated.
		expect(performance.now() - started).toBeLessThan(3_000);
		await expectRefused(response, before, { code: 'invalid_document' });
	});

	it('R19: anything but JPEG, PNG or PDF is refused with a message naming the kinds allowed', async () => {
		const before = await snapshot();
		const body = await expectRefused(
			await submitRaw([
				{ name: 'id.zip', type: 'application/zip', bytes: zipOf('a.txt', Buffer.from('hello')) }
			]),
			before,
			{ code: 'invalid_document' }
		);
		expect(body.error.message).toMatch(/JPEG, PNG or PDF/);
	});

	it('R19: a PDF that needs a password is refused with a message that says so', async () => {
		const before = await snapshot();
		const body = await expectRefused(
			await submitRaw([{ name: 'statement.pdf', type: 'application/pdf', bytes: encryptedPdf() }]),
			before,
			{ code: 'invalid_document' }
		);
		expect(body.error.message).toMatch(/statement\.pdf.*password/);
	});

	it(`R19: more than ${MAX_PAGES_PER_UPLOAD} pages in one upload are refused, nothing stored`, async () => {
		const before = await snapshot();
		const files = [1, 2, 3].map((i) => ({
			name: `part${i}.pdf`,
			type: 'application/pdf',
			bytes: pdfBytes({ pages: MAX_PDF_PAGES - 2 })
		}));
		const body = await expectRefused(await submitRaw(files), before, { code: 'invalid_document' });
		expect(body.error.message).toContain(String(MAX_PAGES_PER_UPLOAD));
	});

	it('R19: one unreadable file among good ones refuses the whole appeal, nothing stored', async () => {
		const before = await snapshot();
		const response = await submitRaw([
			{ name: 'a.png', type: 'image/png', bytes: pngBytes() },
			{ name: 'b.pdf', type: 'application/pdf', bytes: pdfBytes() },
			{ name: 'c.jpg', type: 'image/jpeg', bytes: htmlBytes() }
		]);
		const body = await expectRefused(response, before, { code: 'invalid_document' });
		expect(body.error.message).toContain('c.jpg');
	});

	describe('R19: active PDFs are kept only as rebuilt page images', () => {
		it.each(activePdfs())(
			'%s: accepted, and the stored pages hold none of it',
			async (_, bytes) => {
				const pages = await storedPages(
					await submitRaw([{ name: 'id.pdf', type: 'application/pdf', bytes }])
				);
				expect(pages).toHaveLength(1);
				for (const page of pages) {
					expect(page).toMatchObject({
						content_type: 'image/png',
						original_type: 'application/pdf',
						upload_index: 0,
						page: 1,
						pages: 1
					});
					expect(isImage(page.bytes)).toBe(true);
					const text = latin1(page.bytes);
					for (const marker of ACTIVE_MARKERS) expect(text, marker).not.toContain(marker);
					expect(await sharp(page.bytes).metadata()).toMatchObject({
						format: 'png',
						width: 417,
						height: 417
					});
				}
			}
		);

		it('a 3-page PDF becomes 3 stored page images of upload 0, and a photo beside it upload 1', async () => {
			const pages = await storedPages(
				await submitRaw([
					{ name: 'passport.pdf', type: 'application/pdf', bytes: pdfBytes({ pages: 3 }) },
					{ name: 'selfie.png', type: 'image/png', bytes: pngBytes({ metadata: true }) }
				])
			);
			expect(
				pages.map((p) => [p.upload_index, p.page, p.pages, p.original_type, p.content_type])
			).toEqual([
				[0, 1, 3, 'application/pdf', 'image/png'],
				[0, 2, 3, 'application/pdf', 'image/png'],
				[0, 3, 3, 'application/pdf', 'image/png'],
				[1, 1, 1, 'image/png', 'image/png']
			]);
			for (const page of pages) expect(page.storage_key).toMatch(/^db:/);
		});
	});

	describe('R19: images are stored as new files made from their pixels', () => {
		it('a JPEG with GPS EXIF is stored with no EXIF, and is not the uploaded file', async () => {
			const original = await jpegWithGpsExif();
			const [page] = await storedPages(
				await submitRaw([{ name: 'passport.jpg', type: 'image/jpeg', bytes: original }])
			);
			expect(page).toMatchObject({ content_type: 'image/jpeg', original_type: 'image/jpeg' });
			expect(Buffer.from(page!.bytes).equals(Buffer.from(original))).toBe(false);
			expect((await sharp(page!.bytes).metadata()).exif).toBeUndefined();
			expect(latin1(page!.bytes)).not.toMatch(/Exif|PhoneCo|Zhang Wei/);
		});

		it('a PNG with tEXt, zTXt and iTXt chunks is stored with none', async () => {
			const [page] = await storedPages(
				await submitRaw([
					{ name: 'id.png', type: 'image/png', bytes: pngBytes({ metadata: true }) }
				])
			);
			expect(latin1(page!.bytes)).not.toMatch(/tEXt|zTXt|iTXt|eXIf|Secret Road|xmpmeta/);
		});

		it.each([
			[
				'a JPEG with an HTML page appended after its end',
				'passport.jpg',
				'image/jpeg',
				() => cat(jpegBytes(), HTML)
			],
			[
				'a JPEG with an HTML page in a comment segment',
				'passport.jpg',
				'image/jpeg',
				jpegWithMarkupInComment
			],
			[
				'a JPEG with an HTML page inside its scan data',
				'passport.jpg',
				'image/jpeg',
				jpegWithMarkupInScan
			],
			['a PNG with HTML after IEND', 'id.png', 'image/png', () => cat(pngBytes(), HTML)],
			[
				'a PNG with HTML in a tEXt chunk',
				'id.png',
				'image/png',
				() => pngWithChunk('tEXt', `Comment\0${HTML}`)
			],
			[
				'a PNG with HTML in a private ancillary chunk',
				'id.png',
				'image/png',
				() => pngWithChunk('prVt', HTML)
			]
		])('%s is stored without it', async (_, name, type, bytes) => {
			const [page] = await storedPages(await submitRaw([{ name, type, bytes: bytes() }]));
			expect(isImage(page!.bytes)).toBe(true);
			expect(latin1(page!.bytes)).not.toMatch(/<script|<html/i);
		});
	});

	it.each([
		['../../etc/passwd.png', '../../etc/passwd.png'],
		['..\\..\\windows\\win.ini.png', '..\\..\\windows\\win.ini.png'],
		['a NUL byte', 'id\0.php.png'],
		['5,000 characters', 'a'.repeat(5000) + '.png']
	])('R19: a document named %s is stored without its name', async (_, name) => {
		const [page] = await storedPages(
			await submitRaw([{ name, type: 'image/png', bytes: pngBytes() }])
		);
		const row = await database.db
			.selectFrom('appeal_documents')
			.selectAll()
			.where('id', '=', page!.id)
			.executeTakeFirstOrThrow();
		expect(JSON.stringify(row)).not.toMatch(/passwd|win\.ini|php|aaaa/);
	});

	it('R19: a refused file with NUL and ../ in its name is refused by content, the name only echoed', async () => {
		const before = await snapshot();
		const body = await expectRefused(
			await submitRaw([{ name: '../\0evil.jpg', type: 'image/jpeg', bytes: htmlBytes() }]),
			before,
			{ code: 'invalid_document' }
		);
		expect(body.error.message).toContain('evil.jpg');
	});

	describe('R19: one upload cannot freeze the server', () => {
		const post = (
			fields: Record<string, string>,
			files: { name: string; type: string; bytes: Uint8Array }[],
			clientAddress: string
		) => {
			const { body, contentType } = rawMultipart(fields, files);
			return () =>
				callEndpoint(submit, app, {
					body,
					headers: { 'content-type': contentType },
					clientAddress
				});
		};

		/** `work` while /healthz is asked every 10 ms: its slowest answer, and the event loop's longest stall. */
		async function whileProbed<T>(work: () => Promise<T>) {
			let slowest = 0;
			let probing = true;
			const probes = (async () => {
				while (probing) {
					const started = performance.now();
					const res = await callEndpoint(healthz, app, { method: 'GET', path: '/healthz' });
					expect(res.status).toBe(200);
					slowest = Math.max(slowest, performance.now() - started);
					await new Promise((resolve) => setTimeout(resolve, 10));
				}
			})();
			const { result, stallMs } = await longestStall(work);
			probing = false;
			await probes;
			return { result, stallMs, healthzMs: slowest };
		}

		it('R19: a wrong code is refused before any document is inspected', async () => {
			const { fields, clientAddress } = await provenFields();
			const wrong = String((Number(fields.newIdentifierCode) + 1) % 1_000_000).padStart(6, '0');
			const before = await snapshot();
			// A PDF that takes MuPDF 15 s, and HTML that would be refused if looked at.
			const send = post(
				{ ...fields, newIdentifierCode: wrong },
				[
					{
						name: 'hostile.pdf',
						type: 'application/pdf',
						bytes: inflateBombPdf(26_000, 26_000, 2)
					},
					{ name: 'passport.jpg', type: 'image/jpeg', bytes: htmlBytes() }
				],
				clientAddress
			);
			const started = performance.now();
			const response = await send();
			const elapsed = performance.now() - started;
			// The code's answer, not the documents': the files were never judged.
			expect((await response.json()).error).toMatchObject({
				code: 'code_invalid',
				fields: { newIdentifierCode: expect.any(String) }
			});
			expect(response.status).toBe(400);
			expect(elapsed).toBeLessThan(1_000);
			expect(await snapshot()).toEqual(before);
			// R6: the wrong attempt counted, and the right code was not used up by the check.
			const row = await database.db
				.selectFrom('verification_codes')
				.select(['attempts', 'consumed_at'])
				.where('identifier', '=', fields.newIdentifier)
				.executeTakeFirstOrThrow();
			expect(row).toEqual({ attempts: 1, consumed_at: null });
			expect(
				(
					await post(
						fields,
						[{ name: 'id.png', type: 'image/png', bytes: pngBytes() }],
						clientAddress
					)()
				).status
			).toBe(201);
		});

		it('R19: a hostile 5 MB PDF crafted for the old quadratic path is answered within 2 s, /healthz within 100 ms throughout', async () => {
			const { fields, clientAddress } = await provenFields();
			// 5 MB of `stream` keywords with no `obj` between them (the old regex check's worst case).
			const bytes = quadraticPdf({
				keywordBytes: MAX_DOCUMENT_BYTES - 2048,
				padTo: MAX_DOCUMENT_BYTES
			});
			expect(bytes.length).toBe(MAX_DOCUMENT_BYTES);
			const send = post(
				fields,
				[{ name: 'scan.pdf', type: 'application/pdf', bytes }],
				clientAddress
			);
			const started = performance.now();
			const { result: response, stallMs, healthzMs } = await whileProbed(send);
			expect(performance.now() - started).toBeLessThan(2_000);
			// Harmless once rendered: its one page is kept as an image.
			expect(response.status).toBe(201);
			expect(stallMs).toBeLessThan(100);
			expect(healthzMs).toBeLessThan(100);
		});

		it('R19: 3 × 5 MB valid files (a photo, a scan, a PDF) are accepted while /healthz answers within 100 ms', async () => {
			const { fields, clientAddress } = await provenFields();
			const photo = await noiseImage('jpeg', MAX_DOCUMENT_BYTES);
			const scan = await noiseImage('jpeg', MAX_DOCUMENT_BYTES - 2048);
			const { width, height } = await sharp(scan).metadata();
			const files = [
				{ name: 'photo.jpg', type: 'image/jpeg', bytes: photo },
				{
					name: 'screenshot.png',
					type: 'image/png',
					bytes: await noiseImage('png', MAX_DOCUMENT_BYTES)
				},
				{ name: 'passport.pdf', type: 'application/pdf', bytes: scannedPdf(scan, width, height) }
			];
			for (const file of files) expect(file.bytes.length).toBeGreaterThan(0.8 * MAX_DOCUMENT_BYTES);
			const {
				result: response,
				stallMs,
				healthzMs
			} = await whileProbed(post(fields, files, clientAddress));
			const pages = await storedPages(response);
			expect(pages.map((p) => p.original_type)).toEqual([
				'image/jpeg',
				'image/png',
				'application/pdf'
			]);
			expect(stallMs).toBeLessThan(100);
			expect(healthzMs).toBeLessThan(100);
		});

		it('R19: a PDF that would take MuPDF 15 s is refused as "could not be read in time" after the limit, the server answering throughout', async () => {
			const { fields, clientAddress } = await provenFields();
			const before = await snapshot();
			const bomb = inflateBombPdf(26_000, 26_000, 2);
			expect(bomb.length).toBeLessThan(MAX_DOCUMENT_BYTES);
			const started = performance.now();
			const {
				result: response,
				stallMs,
				healthzMs
			} = await whileProbed(
				post(fields, [{ name: 'bomb.pdf', type: 'application/pdf', bytes: bomb }], clientAddress)
			);
			const elapsed = performance.now() - started;
			const body = await expectRefused(response, before, { code: 'invalid_document' });
			expect(body.error.message).toMatch(/bomb\.pdf.*in time/);
			expect(elapsed).toBeLessThan(7_000);
			expect(stallMs).toBeLessThan(100);
			expect(healthzMs).toBeLessThan(100);
			// The thread that ran past the limit is replaced: the next upload is rebuilt as usual.
			expect(
				await inspectUploads(app, [
					{ name: 'id.pdf', declaredType: 'application/pdf', bytes: pdfBytes() }
				])
			).toMatchObject({ ok: true, documents: [{ contentType: 'image/png' }] });
		});

		it('R19: a document whose inspection runs past the time limit is refused with invalid_document', async () => {
			const slow = {
				name: 'slow.pdf',
				declaredType: 'application/pdf',
				bytes: pdfBytes({ padTo: MAX_DOCUMENT_BYTES })
			};
			// A 1 ms limit instead of the real one: no 5 MB file is read that fast.
			const result = await inspectUploads(app, [slow], { timeoutMs: 1 });
			expect(result).toMatchObject({
				ok: false,
				status: 400,
				code: 'invalid_document',
				field: 'documents',
				message: expect.stringContaining('slow.pdf')
			});
			expect(result.ok || result.message).toMatch(/in time/);
			expect(
				await inspectUploads(app, [
					{ name: 'id.png', declaredType: 'image/png', bytes: pngBytes() }
				])
			).toMatchObject({ ok: true, documents: [{ contentType: 'image/png' }] });
		});

		it('R19: past the inspection queue bound uploads are refused as busy (503), not buffered', async () => {
			const file = {
				name: 'scan.pdf',
				declaredType: 'application/pdf',
				bytes: pdfBytes({ padTo: MAX_DOCUMENT_BYTES })
			};
			const results = await Promise.all(
				Array.from({ length: 12 }, () => inspectUploads(app, [file, file, file]))
			);
			const refused = results.filter((r) => !r.ok);
			expect(refused.length).toBeGreaterThan(0);
			for (const r of refused)
				expect(r).toMatchObject({
					status: 503,
					code: 'busy',
					retryAfterSeconds: expect.any(Number)
				});
			expect(results.filter((r) => r.ok).length).toBeGreaterThan(0);
			// Once the queue drains, uploads are inspected again.
			expect(await inspectUploads(app, [file])).toMatchObject({ ok: true });
		});
	});

	it('R19: past the upload buffer budget a body is refused as busy (503) before any of it is read', async () => {
		// Bodies without Content-Length reserve the whole limit; these send a little and then stall.
		const stalled = Math.floor(MAX_BUFFERED_UPLOAD_BYTES / MAX_MULTIPART_BYTES);
		const releases: (() => void)[] = [];
		const streaming = (onPull: () => void | PromiseLike<void>) =>
			new ReadableStream<Uint8Array>(
				{
					start: (controller) => void releases.push(() => controller.close()),
					pull: onPull
				},
				// Pulled only when read, so a pull means the body holds its share of the budget.
				{ highWaterMark: 0 }
			);
		const post = (body: ReadableStream<Uint8Array>) => {
			const request = new Request('http://127.0.0.1/api/v1/appeals', {
				method: 'POST',
				headers: { 'content-type': 'multipart/form-data; boundary=x' },
				body,
				duplex: 'half'
			} as RequestInit);
			return callEndpoint(submit, app, { request, clientAddress: nextAddress() });
		};
		let reading = 0;
		const waiting = Array.from({ length: stalled }, () =>
			post(
				streaming(() => {
					reading += 1;
					return new Promise(() => {});
				})
			)
		);
		// The routes check the per-network limit (a database round trip) before reserving: wait
		// until every stalled body holds its share and is being read.
		await vi.waitFor(() => expect(reading).toBe(stalled), { timeout: 5_000, interval: 10 });
		let pulled = 0;
		const refused = await post(
			new ReadableStream<Uint8Array>({ pull: () => void (pulled += 1) }, { highWaterMark: 0 })
		);
		expect(refused.status).toBe(503);
		expect((await refused.json()).error).toMatchObject({
			code: 'busy',
			fields: { documents: expect.any(String) }
		});
		expect(refused.headers.get('retry-after')).toBe('10');
		expect(pulled).toBe(0);
		// Once those bodies end (empty: not a form), the budget is free again.
		for (const release of releases) release();
		for (const response of await Promise.all(waiting)) expect(response.status).toBe(400);
		const { fields, clientAddress } = await provenFields();
		const { body, contentType } = rawMultipart(fields, [
			{ name: 'id.png', type: 'image/png', bytes: pngBytes() }
		]);
		expect(
			(
				await callEndpoint(submit, app, {
					body,
					headers: { 'content-type': contentType },
					clientAddress
				})
			).status
		).toBe(201);
	});

	describe('bodies over the size limit', () => {
		async function overLimit(withLength: boolean) {
			const { fields, clientAddress } = await provenFields();
			const chunk = pdfBytes({ padTo: MAX_DOCUMENT_BYTES });
			const { body, contentType } = rawMultipart(
				fields,
				[1, 2, 3, 4].map((i) => ({ name: `p${i}.pdf`, type: 'application/pdf', bytes: chunk }))
			);
			expect(body.length).toBeGreaterThan(MAX_MULTIPART_BYTES);
			let pulled = 0;
			const stream = new ReadableStream<Uint8Array>({
				pull(controller) {
					if (pulled >= body.length) return controller.close();
					controller.enqueue(new Uint8Array(body.subarray(pulled, pulled + 256 * 1024)));
					pulled += 256 * 1024;
				}
			});
			const headers: Record<string, string> = {
				'content-type': contentType,
				...(withLength ? { 'content-length': String(body.length) } : {})
			};
			const request = new Request('http://127.0.0.1/api/v1/appeals', {
				method: 'POST',
				headers,
				body: stream,
				duplex: 'half'
			} as RequestInit);
			const before = await snapshot();
			const response = await callEndpoint(submit, app, { request, clientAddress });
			await expectRefused(response, before, { status: 413, code: 'request_too_large' });
			return pulled;
		}

		it('API (docs/api.md): a body over the limit with Content-Length is refused with 413 before it is read', async () => {
			expect(await overLimit(true)).toBeLessThanOrEqual(256 * 1024);
		});

		it('API (docs/api.md): a body over the limit without Content-Length is refused with 413 as soon as it passes the limit', async () => {
			const pulled = await overLimit(false);
			// Stops within a few chunks of the limit, well before the 20 MB the client would send.
			expect(pulled).toBeLessThanOrEqual(MAX_MULTIPART_BYTES + 4 * 256 * 1024);
			expect(pulled).toBeLessThan(4 * MAX_DOCUMENT_BYTES);
		});
	});

	describe('R22: stored pages are reachable only by agents: inline for the console, else a download', () => {
		const call = (id: string, agent: Agent | null, jar?: Map<string, string>) =>
			requestDocument(app, id, agent, jar);
		/** The console's view, by `agent`'s support session cookie (none for null) as its sign-in leaves it. */
		const view = async (id: string, agent: Agent | null) => {
			const jar = new Map<string, string>();
			if (agent) {
				const token = generateAgentSessionToken();
				await createAgentSession(app, token, agent.id, null);
				jar.set('support_session', token);
			}
			return callEndpoint(documentRoute, app, {
				method: 'GET',
				path: `/support/documents/${id}?view=1`,
				jar
			});
		};

		it('a disarmed polyglot: anonymous 403, buyer session 403, agent gets the rebuilt image with nosniff and a sandbox', async () => {
			const { fields, clientAddress } = await provenFields();
			const form = appealForm(fields, [
				fileOf(cat(jpegBytes(), HTML), 'passport.html.jpg', 'image/jpeg')
			]);
			const response = await callEndpoint(submit, app, { body: form, clientAddress });
			expect(response.status).toBe(201);
			const { reference } = await response.json();
			const row = await database.db
				.selectFrom('appeals')
				.select(['id', 'account_id'])
				.where('reference', '=', reference)
				.executeTakeFirstOrThrow();
			const agent = await makeAgent(app);
			const doc = (await appealForAgent(app, agent, row.id))!.documents[0]!;
			expect(doc).toMatchObject({
				contentType: 'image/jpeg',
				original: 'image/jpeg',
				upload: 0,
				page: 1,
				pages: 1
			});

			expect(await statusOf(call(doc.id, null))).toBe(403);
			expect(await statusOf(view(doc.id, null))).toBe(403);
			const token = generateSessionToken();
			await createSession(
				app,
				token,
				row.account_id!,
				{ ip: null, ipCountry: null, userAgent: null },
				0
			);
			expect(await statusOf(call(doc.id, null, new Map([['session', token]])))).toBe(403);

			for (const [res, disposition] of [
				[await call(doc.id, agent), 'attachment'],
				[await view(doc.id, agent), 'inline']
			] as const) {
				expect(res.status).toBe(200);
				expect(res.headers.get('content-disposition')).toMatch(
					new RegExp(`^${disposition}; filename="AP-[0-9A-Z-]+[^"]*\\.jpg"$`)
				);
				expect(res.headers.get('content-disposition')).not.toContain('html');
				expect(res.headers.get('x-content-type-options')).toBe('nosniff');
				expect(res.headers.get('content-type')).toBe('image/jpeg');
				expect(res.headers.get('content-security-policy')).toContain('sandbox');
				expect(res.headers.get('cache-control')).toBe('no-store');
				expect(latin1(new Uint8Array(await res.arrayBuffer()))).not.toMatch(/<script/i);
			}
		});
	});
});
