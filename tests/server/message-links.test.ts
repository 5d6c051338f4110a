import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appealNoticeMessage } from '../../src/lib/server/appeals/messages';
import { contactChangedMessage } from '../../src/lib/server/messaging';
import type { Identifier } from '../../src/lib/server/core/identifiers';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { appealForm, defaultDocuments, nextAddress, tempStorageDir } from '../support/appeals';
import { latestCode, messageText } from '../support/codes';
import { callEndpoint } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { POST as requestCode } from '../../src/routes/api/v1/verifications/+server';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';

const ORIGIN = 'https://shop.example';
const email = (value: string): Identifier => ({ kind: 'email', value });
const phone = (value: string): Identifier => ({ kind: 'phone', value });
const REFERENCE = 'AP-7K2M-9QXR';

describe('message links: absolute from ORIGIN', () => {
	it('R17: the contact-changed notice links to the appeal with the full origin, clickable', () => {
		const message = contactChangedMessage(
			email('old@example.com'),
			email('new@example.com'),
			'c0ffee00-0000-4000-8000-000000000001',
			'en',
			ORIGIN
		);
		expect(message.body).toContain(
			'https://shop.example/appeal?change=c0ffee00-0000-4000-8000-000000000001'
		);
		expect(message.body).not.toMatch(/ \/appeal\?/);
	});

	it.each(['received', 'needs_info', 'rejected'] as const)(
		'R19: the %s notice links to its status page with the reference filled in, never the secret',
		(notice) => {
			for (const to of [email('found@example.com'), phone('+8613800138000')]) {
				for (const locale of ['en', 'zh-CN'] as const) {
					const message = appealNoticeMessage(to, notice, REFERENCE, locale, { origin: ORIGIN });
					expect(message.body).toContain(`${ORIGIN}/appeal/status?reference=${REFERENCE}`);
					expect(message.body).not.toMatch(/token|secret=/i);
				}
			}
		}
	);

	it('R21: the approval to the new contact links to sign-in and password reset', () => {
		const message = appealNoticeMessage(
			email('found@example.com'),
			'approved_new',
			REFERENCE,
			'en',
			{
				origin: ORIGIN
			}
		);
		expect(message.body).toContain(`${ORIGIN}/login`);
		expect(message.body).toContain(`${ORIGIN}/forgot-password`);
	});

	it('without ORIGIN the link is the path alone, which the person can still type after the address', () => {
		const message = appealNoticeMessage(email('found@example.com'), 'received', REFERENCE, 'en', {
			origin: undefined
		});
		expect(message.body).toContain(` /appeal/status?reference=${REFERENCE}`);
		expect(message.body).not.toContain('http');
	});
});

describe.each(testDatabases)('appeal message links on $name', ({ open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});

	/** Files an appeal through the API with every request naming `host` as the Host. */
	async function fileFrom(app: ReturnType<typeof testAppContext>, host: string) {
		const old = (await insertAccount(database.db)).email!;
		const newIdentifier = uniqueEmail('found');
		const clientAddress = nextAddress();
		const sent = await callEndpoint(requestCode, app, {
			request: new Request(`http://${host}/api/v1/verifications`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ identifier: newIdentifier, purpose: 'appeal' })
			}),
			clientAddress
		});
		expect(sent.status).toBe(202);
		const code = await latestCode(database.db, newIdentifier);
		const response = await callEndpoint(submit, app, {
			request: new Request(`http://${host}/api/v1/appeals`, {
				method: 'POST',
				body: appealForm(
					{
						identifier: old,
						newIdentifier,
						newIdentifierCode: code,
						description: 'I lost my phone with the SIM card in Shanghai last week.'
					},
					defaultDocuments()
				)
			}),
			clientAddress
		});
		expect(response.status).toBe(201);
		const { reference } = (await response.json()) as { reference: string };
		const row = await database.db
			.selectFrom('outbox')
			.select('id')
			.where('recipient', '=', newIdentifier)
			.where('purpose', '=', 'appeal_received')
			.executeTakeFirstOrThrow();
		return { reference, text: await messageText(database.db, row.id) };
	}

	it('R19: the receipt message to the new contact carries the status link on ORIGIN', async () => {
		const app = testAppContext(database, {
			env: { ORIGIN, APPEAL_STORAGE_DIR: tempStorageDir() }
		});
		const { reference, text } = await fileFrom(app, 'attacker.example');
		expect(text).toContain(`${ORIGIN}/appeal/status?reference=${reference}`);
		expect(text).not.toContain('attacker.example');
	});

	it('production without ORIGIN: appeal messages never link to the Host a request sent', async () => {
		const production = testAppContext(database, {
			env: { NODE_ENV: 'production', APPEAL_STORAGE_DIR: tempStorageDir() }
		});
		const { reference, text } = await fileFrom(production, 'attacker.example');
		expect(text).not.toContain('attacker.example');
		expect(text).toContain(` /appeal/status?reference=${reference}`);
	});
});
