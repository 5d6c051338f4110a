import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/lib/server/db/database';
import { migrateToLatest } from '../../src/lib/server/db/migrate';
import { testKeyring } from '../../src/lib/server/core/keys';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { insertAccount, uniqueEmail } from '../support/factories';

/**
 * Fault: the app killed with SIGKILL in the middle of appeal submissions and contact
 * changes. A child process loops over both against one SQLite file; it is killed at a random
 * moment, again and again; then the file is opened and every change must be wholly there or
 * wholly absent.
 */

const KILLS = 6;
const PASSWORD = 'a long and private passphrase';
const worker = join(import.meta.dirname, 'fixtures', 'crash-worker.ts');

async function untilLine(
	child: ChildProcess,
	predicate: (lines: string[]) => boolean,
	deadlineMs: number
): Promise<string[]> {
	const lines: string[] = [];
	let stderr = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`worker gave no progress in ${deadlineMs} ms: ${stderr.slice(-800)}`)),
			deadlineMs
		);
		child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
		child.stdout!.on('data', (d: Buffer) => {
			lines.push(...d.toString().split('\n').filter(Boolean));
			if (predicate(lines)) {
				clearTimeout(timer);
				resolve(lines);
			}
		});
		child.on('exit', (code) => {
			clearTimeout(timer);
			if (!predicate(lines)) reject(new Error(`worker exited ${code}: ${stderr.slice(-800)}`));
		});
	});
}

describe('SIGKILL during appeal submissions and contact changes (SQLite file)', () => {
	let dir: string;
	let dbPath: string;
	let storage: string;
	let handle: DatabaseHandle;
	let accountId: string;
	let originalEmail: string;
	const children: ChildProcess[] = [];

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'asc-sigkill-'));
		dbPath = join(dir, 'app.db');
		storage = join(dir, 'documents');
		const setup = openDatabase({ kind: 'sqlite', path: dbPath });
		await migrateToLatest(setup, { keys: testKeyring() });
		originalEmail = uniqueEmail('victim');
		accountId = (
			await insertAccount(setup.db, {
				email: originalEmail,
				password_hash: await hashPassword(PASSWORD)
			})
		).id;
		await setup.close();
	});
	afterAll(async () => {
		for (const child of children)
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		await handle?.close();
		rmSync(dir, { recursive: true, force: true });
	});

	it(`R19/R16: after ${KILLS} kills at random moments, every appeal and every contact change is whole or absent`, async () => {
		let progress = 0;
		let interrupted = 0;
		for (let round = 0; round < KILLS; round += 1) {
			const child = spawn(
				process.execPath,
				['--import', 'tsx', worker, dbPath, storage, accountId, PASSWORD],
				{ stdio: ['ignore', 'pipe', 'pipe'] }
			);
			children.push(child);
			// The kill waits for the loop's first finished operation, so a slow start on a busy
			// machine never takes the whole window; then a random moment among the writes.
			const lines = await untilLine(child, (seen) => seen.some((l) => l.endsWith(' ok')), 60_000);
			const wait = Math.floor(Math.random() * 1_500);
			await new Promise((resolve) => setTimeout(resolve, wait));
			const exited = new Promise((resolve) => child.on('exit', resolve));
			child.kill('SIGKILL');
			await exited;
			expect(child.signalCode).toBe('SIGKILL');
			const work = lines.filter((line) => line !== 'ready');
			for (const line of work) expect(line).toMatch(/^(appeal|change) (start|ok)$/);
			progress += work.filter((line) => line.endsWith(' ok')).length;
			if (work.at(-1)?.endsWith(' start')) interrupted += 1;
		}
		// The kills landed in the middle of an operation (it had started and not reported), not
		// between operations or before the loop began.
		expect(interrupted).toBeGreaterThanOrEqual(KILLS / 2);

		handle = openDatabase({ kind: 'sqlite', path: dbPath });
		const { db } = handle;
		const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
		expect(integrity.rows).toEqual([{ integrity_check: 'ok' }]);

		// Appeals: each with all 3 document rows and their encrypted contents, or not there at all;
		// rows and contents commit in one transaction, so a kill leaves no orphan either way.
		const appeals = await db.selectFrom('appeals').select(['id', 'new_identifier']).execute();
		const documents = await db.selectFrom('appeal_documents').select(['id', 'appeal_id']).execute();
		const contents = new Set(
			(await db.selectFrom('appeal_document_contents').select('document_id').execute()).map(
				(c) => c.document_id
			)
		);
		expect(appeals.length).toBeGreaterThan(0);
		for (const appeal of appeals) {
			const mine = documents.filter((d) => d.appeal_id === appeal.id);
			expect(mine).toHaveLength(3);
			for (const d of mine) expect(contents.has(d.id), `content of appeal ${appeal.id}`).toBe(true);
		}
		expect(contents.size).toBe(documents.length);
		expect(existsSync(storage) ? readdirSync(storage) : []).toEqual([]);

		// Contact changes: one unbroken chain from the original email to the current one.
		const account = await db
			.selectFrom('accounts')
			.select(['email'])
			.where('id', '=', accountId)
			.executeTakeFirstOrThrow();
		const changes = await db
			.selectFrom('contact_changes')
			.selectAll()
			.where('account_id', '=', accountId)
			.orderBy('changed_at')
			.execute();
		expect(changes.length).toBeGreaterThan(0);
		let bound = originalEmail;
		for (const change of changes) {
			expect(change.old_identifier).toBe(bound);
			bound = change.new_identifier;
		}
		expect(account.email).toBe(bound);
		// Each change told the old address, in the same transaction.
		const notices = await db
			.selectFrom('outbox')
			.select('recipient')
			.where('purpose', '=', 'contact_changed')
			.execute();
		expect(notices.map((n) => n.recipient).sort()).toEqual(
			changes.map((c) => c.old_identifier).sort()
		);

		// No code consumed without its effect.
		const consumed = await db
			.selectFrom('verification_codes')
			.select(['purpose', 'identifier'])
			.where('consumed_at', 'is not', null)
			.execute();
		for (const code of consumed) {
			if (code.purpose === 'appeal')
				expect(
					appeals.some((a) => a.new_identifier === code.identifier),
					`appeal code for ${code.identifier}`
				).toBe(true);
			if (code.purpose === 'contact_change')
				expect(
					changes.some((c) => c.new_identifier === code.identifier),
					`change code for ${code.identifier}`
				).toBe(true);
		}
		console.info(
			`sigkill: ${KILLS} kills (${interrupted} mid-operation), ${progress} operations reported, ${appeals.length} appeals, ${changes.length} contact changes, ${documents.length} documents`
		);
	});
});
