import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';
import { parseForm } from '../../src/lib/server/http/forms';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { appealForm, nextAddress, tempStorageDir } from '../support/appeals';
import { callEndpoint } from '../support/endpoints';

/** A refused form names every field it refused, each with its own translated message. */

describe('parseForm', () => {
	const schema = z.strictObject({ reference: z.string(), statusToken: z.string().max(8) });

	it('names each missing or malformed field, and keeps the first as `field`', () => {
		const result = parseForm(schema, { reference: undefined, statusToken: 'x'.repeat(9) });
		expect(result).toEqual({
			ok: false,
			failure: {
				ok: false,
				status: 400,
				code: 'invalid_request',
				message: 'The request has missing, unknown or malformed fields.',
				field: 'reference',
				fields: { reference: 'Fill in this field.', statusToken: 'This is too long.' }
			}
		});
	});
});

describe.each(testDatabases)('appeal API field errors on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database, { env: { APPEAL_STORAGE_DIR: tempStorageDir() } });
	});
	afterAll(async () => {
		await closeTestDocumentPool();
		await database.dispose();
	});

	it('API (docs/api.md): an empty appeal answers 400 invalid_request with every missing field', async () => {
		const response = await callEndpoint(submit, app, {
			body: appealForm({}, []),
			clientAddress: nextAddress()
		});
		expect(response.status).toBe(400);
		const { error } = (await response.json()) as {
			error: { code: string; fields: Record<string, string> };
		};
		expect(error.code).toBe('invalid_request');
		expect(error.fields).toEqual({
			identifier: 'Fill in this field.',
			newIdentifier: 'Fill in this field.',
			newIdentifierCode: 'Fill in this field.',
			description: 'Fill in this field.'
		});
	});
});
