import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { claimAppeal, decideAppeal } from '../../src/lib/server/appeals/decisions';
import type { AppContext } from '../../src/lib/server/core/context';
import { POST as submit } from '../../src/routes/api/v1/appeals/+server';
import { POST as requestCode } from '../../src/routes/api/v1/verifications/+server';
import { makeAgent } from './agents';
import { openTestApp } from './app-context';
import { latestCode } from './codes';
import type { TestDatabase } from './databases';
import { fileOf, pdfBytes, pngBytes } from './documents';
import { callEndpoint } from './endpoints';
import { uniqueEmail } from './factories';
import type { Db } from '../../src/lib/server/db/database';

/** A fresh document directory per suite, so tests can count what was stored. */
export function tempStorageDir(): string {
	return mkdtempSync(join(tmpdir(), 'asc-appeals-'));
}

/**
 * `openTestApp` for a suite that files appeals: its documents directory is its own (`storage`,
 * for the further contexts a suite builds over the same database).
 */
export async function openAppealTestApp(
	open: () => Promise<TestDatabase>,
	options: Parameters<typeof openTestApp>[1] = {}
) {
	const storage = tempStorageDir();
	const opened = await openTestApp(open, {
		...options,
		env: { APPEAL_STORAGE_DIR: storage, ...options.env }
	});
	return { ...opened, storage };
}

/** R19: how many documents are stored (encrypted, in the database). */
export async function storedDocuments(db: Db): Promise<number> {
	const row = await db
		.selectFrom('appeal_document_contents')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.executeTakeFirstOrThrow();
	return Number(row.n);
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

export const defaultDocuments = () => [
	fileOf(pdfBytes(), 'passport.pdf', 'application/pdf'),
	fileOf(pngBytes({ metadata: true }), 'selfie.png', 'image/png')
];

/** Proves the new contact the way a person does (POST /api/v1/verifications), then submits. */
export async function fileAppeal(
	app: AppContext,
	options: {
		identifier: string;
		newIdentifier?: string;
		files?: File[];
		description?: string;
		clientAddress?: string;
		extra?: Record<string, string>;
	}
) {
	const newIdentifier = options.newIdentifier ?? uniqueEmail('new');
	const clientAddress = options.clientAddress ?? nextAddress();
	const sent = await callEndpoint(requestCode, app, {
		json: { identifier: newIdentifier, purpose: 'appeal' },
		clientAddress
	});
	if (sent.status !== 202) throw new Error(`code request answered ${sent.status}`);
	const code = await latestCode(app.database.db, newIdentifier);
	const form = appealForm(
		{
			identifier: options.identifier,
			newIdentifier,
			newIdentifierCode: code,
			description:
				options.description ?? 'I lost my phone with the SIM card in Shanghai last week.',
			...options.extra
		},
		options.files ?? defaultDocuments()
	);
	const response = await callEndpoint(submit, app, { body: form, clientAddress });
	return { response, newIdentifier, code, clientAddress };
}

/** `fileAppeal`, answered 201, with the answer's body and the appeal's row as stored. */
export async function filedAppeal(app: AppContext, options: Parameters<typeof fileAppeal>[1]) {
	const filed = await fileAppeal(app, options);
	expect(filed.response.status).toBe(201);
	const body = (await filed.response.json()) as { reference: string; statusToken: string };
	const row = await app.database.db
		.selectFrom('appeals')
		.selectAll()
		.where('reference', '=', body.reference)
		.executeTakeFirstOrThrow();
	return { ...filed, body, row };
}

/** R21: a new agent claims the appeal and approves it; the approval's answer. */
export async function approvedByAnAgent(app: AppContext, appealId: string) {
	const meta = { ip: '203.0.113.9' };
	const agent = await makeAgent(app);
	await claimAppeal(app, agent, appealId, { takeOver: false }, meta);
	return decideAppeal(app, agent, appealId, { kind: 'approve' }, meta);
}

const WRITES = new Set<PropertyKey>(['updateTable', 'insertInto', 'deleteFrom', 'transaction']);
const EXECUTES = new Set<PropertyKey>(['execute', 'executeTakeFirst', 'executeTakeFirstOrThrow']);

/** A query builder whose execution first waits for `gate`; chained builders keep waiting. */
export function gated<T extends object>(builder: T, gate: () => Promise<unknown>): T {
	return new Proxy(builder, {
		get(target, prop) {
			const value: unknown = Reflect.get(target, prop, target);
			if (typeof value !== 'function') return value;
			if (EXECUTES.has(prop)) {
				return async (...args: unknown[]) => {
					await gate();
					return value.apply(target, args);
				};
			}
			return (...args: unknown[]) => {
				const next: unknown = value.apply(target, args);
				return next !== null && typeof next === 'object' && 'execute' in next
					? gated(next, gate)
					: next;
			};
		}
	});
}

/**
 * The app as one request sees it when `between` runs to completion after that request's reads
 * and before its first write: the read → someone else commits → write interleaving of a race,
 * on demand and alike on SQLite and PostgreSQL. The code under test is unchanged; only the
 * database handle it is given is wrapped (a transaction counts as a write as a whole).
 */
export function writesAfter<T extends AppContext>(app: T, between: () => Promise<unknown>): T {
	let ran: Promise<unknown> | null = null;
	const gate = () => (ran ??= between());
	const db = new Proxy(app.db, {
		get(target, prop) {
			const value: unknown = Reflect.get(target, prop, target);
			if (typeof value !== 'function') return value;
			if (WRITES.has(prop))
				return (...args: unknown[]) => gated(value.apply(target, args) as object, gate);
			return value.bind(target);
		}
	});
	return { ...app, db };
}
