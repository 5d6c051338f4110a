import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../src/lib/server/app';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';
import { POST as requestCode } from '../../src/routes/api/v1/verifications/+server';
import { latestCode } from './codes';
import { fileOf, pdfBytes, pngBytes } from './documents';
import { callEndpoint } from './endpoints';
import { uniqueEmail } from './factories';

/** A fresh document directory per suite, so tests can count what was stored. */
export function tempStorageDir(): string {
	return mkdtempSync(join(tmpdir(), 'asc-appeals-'));
}

export function storedFiles(dir: string): string[] {
	try {
		return readdirSync(dir);
	} catch {
		return [];
	}
}

export function appealForm(fields: Record<string, string>, files: File[]): FormData {
	const form = new FormData();
	for (const [k, v] of Object.entries(fields)) form.append(k, v);
	for (const f of files) form.append('documents', f);
	return form;
}

let addresses = 0;
/** A different client address per call, so per-address limits do not couple tests. */
export function nextAddress(): string {
	addresses += 1;
	return `10.77.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

export const defaultDocuments = () => [fileOf(pdfBytes(), 'passport.pdf', 'application/pdf'), fileOf(pngBytes({ metadata: true }), 'selfie.png', 'image/png')];

/** Proves the new contact the way a person does (POST /api/v1/verifications), then submits. */
export async function fileAppeal(
	app: AppContext,
	options: { identifier: string; newIdentifier?: string; files?: File[]; description?: string; clientAddress?: string; extra?: Record<string, string> }
) {
	const newIdentifier = options.newIdentifier ?? uniqueEmail('new');
	const clientAddress = options.clientAddress ?? nextAddress();
	const sent = await callEndpoint(requestCode, app, { json: { identifier: newIdentifier, purpose: 'appeal' }, clientAddress });
	if (sent.status !== 202) throw new Error(`code request answered ${sent.status}`);
	const code = await latestCode(app.database.db, newIdentifier);
	const form = appealForm(
		{
			identifier: options.identifier,
			newIdentifier,
			newIdentifierCode: code,
			description: options.description ?? 'I lost my phone with the SIM card in Shanghai last week.',
			...options.extra
		},
		options.files ?? defaultDocuments()
	);
	const response = await callEndpoint(submit, app, { body: form, clientAddress });
	return { response, newIdentifier, code, clientAddress };
}
