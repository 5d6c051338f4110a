import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appealStatus, claimAppeal, decideAppeal } from '../../src/lib/server/appeals';
import { purgeExpiredDocuments } from '../../src/lib/server/retention/documents';
import { testDatabases, type TestDatabase } from '../support/databases';
import { closeTestDocumentPool, testAppContext } from '../support/app-context';
import { fileAppeal, tempStorageDir } from '../support/appeals';
import { makeAgent } from '../support/agents';
import { insertAccount } from '../support/factories';

const DAY_MS = 86_400_000;
const meta = { ip: '198.51.100.7' };

describe.each(testDatabases)('appeal status timeline (R19) on $name', ({ open }) => {
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

	it('R19/R21: submitted, in review, decided, documents deleted 30 days later — and nothing of who worked it', async () => {
		const account = await insertAccount(database.db);
		const filed = await fileAppeal(app, { identifier: account.email! });
		const { reference, statusToken } = (await filed.response.json()) as {
			reference: string;
			statusToken: string;
		};
		const { id } = await database.db
			.selectFrom('appeals')
			.select('id')
			.where('reference', '=', reference)
			.executeTakeFirstOrThrow();
		const events = async () =>
			(await appealStatus(app, reference, statusToken))!.timeline.map((e) => [
				e.event,
				e.upcoming ?? false
			]);
		expect(await events()).toEqual([['submitted', false]]);

		const agent = await makeAgent(app);
		app.clock.advance(60_000);
		expect(await claimAppeal(app, agent, id, { takeOver: false }, meta)).toEqual({ ok: true });
		app.clock.advance(60_000);
		const decided = await decideAppeal(
			app,
			agent,
			id,
			{ kind: 'reject', reason: 'The documents do not match.' },
			meta
		);
		expect(decided.ok).toBe(true);
		const decidedAt = app.clock.now().getTime();
		const timeline = (await appealStatus(app, reference, statusToken))!.timeline;
		expect(timeline.map((e) => [e.event, e.upcoming ?? false])).toEqual([
			['submitted', false],
			['in_review', false],
			['rejected', false],
			['documents_deleted', true]
		]);
		// R19: documents go APPEAL_DOCUMENT_RETENTION_DAYS (30) after the decision.
		expect(Date.parse(timeline.at(-1)!.at)).toBe(decidedAt + 30 * DAY_MS);

		app.clock.advance(30 * DAY_MS);
		expect(await purgeExpiredDocuments(app)).toBe(2);
		expect(await events()).toEqual([
			['submitted', false],
			['in_review', false],
			['rejected', false],
			['documents_deleted', false]
		]);
	});
});
