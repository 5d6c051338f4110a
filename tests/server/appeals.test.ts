import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';
import { GET as status } from '../../src/routes/api/v1/appeals/[reference]/+server';
import { GET as getReceipt } from '../../src/routes/appeal/receipt/+server';
import { isHttpError } from '@sveltejs/kit';
import {
	actions as statusActions,
	load as statusPage
} from '../../src/routes/appeal/status/+page.server';
import { answerAppeal } from '../../src/lib/server/appeals/status';
import { MAX_DOCUMENT_BYTES } from '../../src/lib/server/appeals/documents/inspect';
import type { RequestMeta } from '../../src/lib/server/core/request-meta';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import {
	appealForm,
	fileAppeal,
	nextAddress,
	storedDocuments,
	tempStorageDir
} from '../support/appeals';
import {
	fileOf,
	htmlBytes,
	jpegBytes,
	longestStall,
	pdfBytes,
	pngBytes,
	quadraticPdf
} from '../support/documents';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { readDocument } from '../../src/lib/server/appeals/documents/store';
import { testKeyring } from '../../src/lib/server/core/keys';
import { hashToken } from '../../src/lib/server/core/tokens';

describe.each(testDatabases)('appeals API on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	let dir: string;
	beforeAll(async () => {
		database = await open();
		dir = tempStorageDir();
		app = testAppContext(database, { env: { APPEAL_STORAGE_DIR: dir } });
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});

	const getStatus = (reference: string, token?: string, clientAddress?: string) =>
		callEndpoint(
			(event: Parameters<typeof status>[0]) => status({ ...event, params: { reference } }),
			app,
			{
				method: 'GET',
				path: `/api/v1/appeals/${reference}`,
				headers: token ? { authorization: `Bearer ${token}` } : {},
				clientAddress
			}
		);
	const appealCount = async () =>
		Number(
			(
				await database.db
					.selectFrom('appeals')
					.select((eb) => eb.fn.countAll().as('n'))
					.executeTakeFirstOrThrow()
			).n
		);

	it('R19: files an appeal with a PDF and a PNG → 201 reference, secret, due in 48 h (R20)', async () => {
		const account = await insertAccount(database.db);
		const { response } = await fileAppeal(app, { identifier: account.email! });
		expect(response.status).toBe(201);
		const body = await response.json();
		expect(body.reference).toMatch(/^AP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
		// R19: 80 bits of Crockford base32 in four groups, made to be written down and retyped.
		expect(body.statusToken).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
		expect(Date.parse(body.dueAt) - app.clock.now().getTime()).toBe(48 * 3_600_000);
		const row = await database.db
			.selectFrom('appeals')
			.selectAll()
			.where('reference', '=', body.reference)
			.executeTakeFirstOrThrow();
		// Stored in the shared database, encrypted; the images without their metadata.
		const documents = await database.db
			.selectFrom('appeal_documents')
			.select(['id', 'content_type'])
			.where('appeal_id', '=', row.id)
			.execute();
		expect(documents.length).toBeGreaterThanOrEqual(2);
		for (const document of documents) {
			const stored = await database.db
				.selectFrom('appeal_document_contents')
				.select('content')
				.where('document_id', '=', document.id)
				.executeTakeFirstOrThrow();
			const plain = (await readDocument(app, document.id))!;
			expect(Buffer.from(plain).toString('latin1')).not.toContain('Secret Road');
			// The stored bytes are ciphertext: not the image, not its signature.
			expect(Buffer.from(stored.content).includes(Buffer.from(plain).subarray(0, 64))).toBe(false);
			expect(await readDocument({ ...app, keys: testKeyring(9, 'other') }, document.id)).toBeNull();
		}
		expect(row.status_token_hash).not.toContain(body.statusToken);
		expect(row.account_id).toBe(account.id);
	});

	it('R19: the status needs the secret; wrong or missing secrets get 404', async () => {
		const account = await insertAccount(database.db);
		const { response } = await fileAppeal(app, { identifier: account.email! });
		const { reference, statusToken } = await response.json();
		const ok = await getStatus(reference, statusToken);
		expect(ok.status).toBe(200);
		expect(await ok.json()).toEqual({
			reference,
			status: 'submitted',
			createdAt: app.clock.now().toISOString(),
			dueAt: expect.any(String),
			effectiveAt: null,
			messages: [],
			timeline: [{ event: 'submitted', at: app.clock.now().toISOString() }]
		});
		expect((await getStatus(reference)).status).toBe(404);
		expect((await getStatus(reference, 'x'.repeat(43))).status).toBe(404);
		expect((await getStatus('AP-0000-0000', statusToken)).status).toBe(404);
		// People retype references in lower case.
		expect((await getStatus(reference.toLowerCase(), statusToken)).status).toBe(200);
	});

	it('R19: the status code is forgiven as people retype it (case, no hyphens, O for 0, I or L for 1); one wrong letter is not', async () => {
		const account = await insertAccount(database.db);
		const { response } = await fileAppeal(app, { identifier: account.email! });
		const { reference, statusToken } = (await response.json()) as {
			reference: string;
			statusToken: string;
		};
		const typed = statusToken
			.toLowerCase()
			.replaceAll('-', '')
			.replaceAll('0', 'o')
			.replaceAll('1', 'l');
		expect((await getStatus(reference, typed)).status).toBe(200);
		const last = statusToken.at(-1) === 'Z' ? 'Y' : 'Z';
		expect((await getStatus(reference, statusToken.slice(0, -1) + last)).status).toBe(404);
	});

	it('R19: an appeal filed before status codes still opens with its 43-character secret', async () => {
		const account = await insertAccount(database.db);
		const { response } = await fileAppeal(app, { identifier: account.email! });
		const { reference } = (await response.json()) as { reference: string };
		const legacy = randomBytes(32).toString('base64url');
		await database.db
			.updateTable('appeals')
			.set({ status_token_hash: hashToken(legacy) })
			.where('reference', '=', reference)
			.execute();
		expect((await getStatus(reference, legacy)).status).toBe(200);
		expect((await getStatus(reference, legacy.toUpperCase())).status).toBe(404);
	});

	it('R19: an unknown old identifier gets the same 201 (no enumeration), with no account linked', async () => {
		const { response } = await fileAppeal(app, { identifier: uniqueEmail('nobody') });
		expect(response.status).toBe(201);
	});

	async function refused(files: File[], expected: { status: number; code: string }) {
		const account = await insertAccount(database.db);
		const [countBefore, filesBefore] = [await appealCount(), await storedDocuments(database.db)];
		const { response, newIdentifier, code } = await fileAppeal(app, {
			identifier: account.email!,
			files
		});
		expect(response.status).toBe(expected.status);
		const body = await response.json();
		expect(body.error.code).toBe(expected.code);
		expect(body.error.message.length).toBeGreaterThan(10);
		expect(body.error.fields).toHaveProperty('documents');
		// Nothing stored: no appeal row, no file, and the code still works for a corrected attempt.
		expect(await appealCount()).toBe(countBefore);
		expect(await storedDocuments(database.db)).toBe(filesBefore);
		const retry = appealForm(
			{
				identifier: account.email!,
				newIdentifier,
				newIdentifierCode: code,
				description: 'Lost my phone, here is my passport.'
			},
			[fileOf(pngBytes(), 'id.png', 'image/png')]
		);
		expect(
			(await callEndpoint(submit, app, { body: retry, clientAddress: nextAddress() })).status
		).toBe(201);
		return body;
	}

	it('R19: an HTML file renamed .jpg is refused: invalid_document, nothing stored', async () => {
		const body = await refused([fileOf(htmlBytes(), 'passport.jpg', 'image/jpeg')], {
			status: 400,
			code: 'invalid_document'
		});
		expect(body.error.message).toContain('passport.jpg');
	});

	it('R19: a PDF over 5 MB is refused with 413, nothing stored', async () => {
		await refused(
			[fileOf(pdfBytes({ padTo: MAX_DOCUMENT_BYTES + 1 }), 'big.pdf', 'application/pdf')],
			{ status: 413, code: 'document_too_large' }
		);
	});

	it('R19: a fourth file is refused, nothing stored', async () => {
		const four = [pngBytes(), jpegBytes(), pdfBytes(), pngBytes()].map((b, i) =>
			fileOf(b, `doc${i}`, '')
		);
		await refused(four, { status: 400, code: 'too_many_documents' });
	});

	it('R19: a PNG with a lying Content-Type is refused, nothing stored', async () => {
		await refused([fileOf(pngBytes(), 'id.pdf', 'application/pdf')], {
			status: 400,
			code: 'invalid_document'
		});
	});

	it('R19: no document at all is refused', async () => {
		await refused([], { status: 400, code: 'document_required' });
	});

	it('R6/R19: a wrong code for the new contact is refused and stores nothing', async () => {
		const account = await insertAccount(database.db);
		const countBefore = await appealCount();
		const form = appealForm(
			{
				identifier: account.email!,
				newIdentifier: uniqueEmail(),
				newIdentifierCode: '000000',
				description: 'Lost my phone, here is my passport.'
			},
			[fileOf(pngBytes(), 'id.png', 'image/png')]
		);
		const response = await callEndpoint(submit, app, { body: form, clientAddress: nextAddress() });
		expect(response.status).toBe(400);
		expect((await response.json()).error.code).toBe('code_invalid');
		expect(await appealCount()).toBe(countBefore);
	});

	it('API (docs/api.md): more than 10 appeals an hour from one address get 429 with Retry-After', async () => {
		const clientAddress = nextAddress();
		const form = () =>
			appealForm(
				{
					identifier: 'a@example.com',
					newIdentifier: 'b@example.com',
					newIdentifierCode: '000000',
					description: 'Lost my phone, here is my passport.'
				},
				[]
			);
		for (let i = 0; i < 10; i += 1)
			expect((await callEndpoint(submit, app, { body: form(), clientAddress })).status).toBe(400);
		const limited = await callEndpoint(submit, app, { body: form(), clientAddress });
		expect(limited.status).toBe(429);
		expect((await limited.json()).error.code).toBe('rate_limited');
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	describe('R19: answers to a needs-info request', () => {
		const meta: RequestMeta = {
			ip: '10.78.0.1',
			ipCountry: null,
			deviceId: 'answer-device',
			locale: 'en',
			userAgent: null
		};
		const hostile = () => ({
			name: 'more.pdf',
			declaredType: 'application/pdf',
			bytes: quadraticPdf({ keywordBytes: 256 * 1024 })
		});

		async function waitingAppeal() {
			const account = await insertAccount(database.db);
			const { response } = await fileAppeal(app, { identifier: account.email! });
			const { reference, statusToken } = (await response.json()) as {
				reference: string;
				statusToken: string;
			};
			await database.db
				.updateTable('appeals')
				.set({ status: 'needs_info' })
				.where('reference', '=', reference)
				.execute();
			return { reference, statusToken };
		}

		it('R19: an answer with a wrong status secret is refused before any document is inspected', async () => {
			const { reference } = await waitingAppeal();
			const started = performance.now();
			const result = await answerAppeal(
				app,
				{ reference, statusToken: 'x'.repeat(43) },
				{},
				[hostile()],
				meta
			);
			expect(result).toMatchObject({ ok: false, status: 404, code: 'appeal_not_found' });
			expect(performance.now() - started).toBeLessThan(1_000);
		});

		it('R19: the documents of an answer are inspected off the event loop', async () => {
			const access = await waitingAppeal();
			const { result, stallMs } = await longestStall(() =>
				answerAppeal(app, access, { message: 'Here is the back side.' }, [hostile()], meta)
			);
			expect(result).toEqual({ ok: true });
			expect(stallMs).toBeLessThan(200);
		});
	});

	it('API (docs/api.md): unknown fields and non-multipart bodies are refused', async () => {
		const account = await insertAccount(database.db);
		const { response } = await fileAppeal(app, {
			identifier: account.email!,
			extra: { admin: '1' }
		});
		expect(response.status).toBe(400);
		expect((await response.json()).error).toMatchObject({
			code: 'invalid_request',
			fields: { admin: expect.any(String) }
		});
		const asJson = await callEndpoint(submit, app, { json: { identifier: account.email } });
		expect(asJson.status).toBe(415);
	});

	describe('R19: failed opens of a status are limited per network (20 an hour)', () => {
		const HOUR = 3_600_000;
		async function filedAppeal() {
			const account = await insertAccount(database.db);
			const { response } = await fileAppeal(app, { identifier: account.email! });
			return (await response.json()) as { reference: string; statusToken: string };
		}
		const wrongCode = (i: number) => `WRNG-${String(i).padStart(4, '0')}-0000-0000`;

		it('API: the 21st miss from one network is 429 with Retry-After; the right code still opens; other networks and the next hour are untouched', async () => {
			const { reference, statusToken } = await filedAppeal();
			const from = nextAddress();
			// Right opens are not failures: they spend nothing.
			for (let i = 0; i < 25; i += 1)
				expect((await getStatus(reference, statusToken, from)).status).toBe(200);
			for (let i = 0; i < 19; i += 1)
				expect((await getStatus(reference, wrongCode(i), from)).status).toBe(404);
			// A wrong reference is a miss as well.
			expect((await getStatus('AP-0000-0000', statusToken, from)).status).toBe(404);
			const limited = await getStatus(reference, wrongCode(99), from);
			expect(limited.status).toBe(429);
			expect((await limited.json()).error).toMatchObject({
				code: 'rate_limited',
				retryAfter: 3600
			});
			expect(limited.headers.get('retry-after')).toBe('3600');
			// R24's rule: strangers on the owner's network cannot lock the owner out.
			expect((await getStatus(reference, statusToken, from)).status).toBe(200);
			expect((await getStatus(reference, wrongCode(1), nextAddress())).status).toBe(404);
			app.clock.advance(HOUR);
			expect((await getStatus(reference, wrongCode(1), from)).status).toBe(404);
		});

		it('API: an IPv6 client is counted by its /64', async () => {
			const { reference } = await filedAppeal();
			for (let i = 0; i < 20; i += 1)
				expect((await getStatus(reference, wrongCode(i), `2001:db8:a:b::${i + 1}`)).status).toBe(
					404
				);
			expect((await getStatus(reference, wrongCode(0), '2001:db8:a:b:ffff::1')).status).toBe(429);
			expect((await getStatus(reference, wrongCode(0), '2001:db8:a:c::1')).status).toBe(404);
		});

		const open = statusActions.open!;
		type Answer = { status?: number; data?: { error: { code: string }; reference: string } };
		const openForm = (reference: string, statusToken: string, clientAddress: string) =>
			callEndpoint(open as never, app, {
				path: '/appeal/status?/open',
				body: new URLSearchParams({ reference, statusToken }),
				clientAddress,
				jar: new Map()
			}) as Promise<Answer & { opened?: true }>;
		const page = (jar: Map<string, string>, clientAddress: string) =>
			callEndpoint(statusPage as never, app, {
				method: 'GET',
				path: '/appeal/status',
				jar,
				clientAddress
			}) as Promise<{ view: { reference: string } | null; refused: { code: string } | null }>;

		it('the page (JavaScript off): the 21st miss answers 429 rate_limited and keeps the reference; the right code still opens', async () => {
			const { reference, statusToken } = await filedAppeal();
			const from = nextAddress();
			for (let i = 0; i < 20; i += 1)
				expect((await openForm(reference, wrongCode(i), from)).status).toBe(404);
			const limited = await openForm(reference, wrongCode(99), from);
			expect([limited.status, limited.data?.error.code, limited.data?.reference]).toEqual([
				429,
				'rate_limited',
				reference
			]);
			expect(await openForm(reference, statusToken, from)).toEqual({ opened: true });
		});

		it('the page: a remembered pair that opens nothing is a miss and is forgotten; past the limit the page says so', async () => {
			const { reference, statusToken } = await filedAppeal();
			const from = nextAddress();
			const forged = (i: number) => new Map([['appeal_access', `${reference}.${wrongCode(i)}`]]);
			const first = forged(0);
			expect(await page(first, from)).toMatchObject({ view: null, refused: null });
			expect(first.has('appeal_access')).toBe(false);
			for (let i = 1; i < 20; i += 1) expect((await page(forged(i), from)).refused).toBeNull();
			expect((await page(forged(20), from)).refused).toMatchObject({ code: 'rate_limited' });
			const owner = new Map([['appeal_access', `${reference}.${statusToken}`]]);
			expect((await page(owner, from)).view?.reference).toBe(reference);
			expect(owner.get('appeal_access')).toBe(`${reference}.${statusToken}`);
		});

		it('the receipt download: a remembered pair that opens nothing is a miss too; the 21st answers 429', async () => {
			const { reference, statusToken } = await filedAppeal();
			const from = nextAddress();
			const receipt = async (code: string) => {
				const jar = new Map([['appeal_access', `${reference}.${code}`]]);
				try {
					return (await callEndpoint(getReceipt, app, { method: 'GET', jar, clientAddress: from }))
						.status;
				} catch (thrown) {
					if (isHttpError(thrown)) return thrown.status;
					throw thrown;
				}
			};
			for (let i = 0; i < 20; i += 1) expect(await receipt(wrongCode(i))).toBe(404);
			expect(await receipt(wrongCode(99))).toBe(429);
			expect(await receipt(statusToken)).toBe(200);
		});
	});
});
