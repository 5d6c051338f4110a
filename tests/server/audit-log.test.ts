import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/lib/server/core/audit';
import { listAuditEvents } from '../../src/lib/server/support';
import { makeAgent } from '../support/agents';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';
import { uniqueEmail } from '../support/factories';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe.each(testDatabases)('audit log reader on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	it('R22: details read as words — agent ids as usernames, other ids short, the appeal by its reference', async () => {
		const admin = await makeAgent(app, 'admin');
		const agent = await makeAgent(app);
		const appealId = randomUUID();
		const now = app.clock.now().getTime();
		await database.db
			.insertInto('appeals')
			.values({
				id: appealId,
				reference: 'AP-TEST-0017',
				status_token_hash: randomUUID(),
				account_id: null,
				old_identifier: uniqueEmail('lost'),
				new_identifier: uniqueEmail('found'),
				description: 'Lost my phone.',
				status: 'submitted',
				locale: 'en',
				created_at: now,
				due_at: now + 48 * 3_600_000,
				updated_at: now
			})
			.execute();
		const documentId = randomUUID();
		await audit(app, {
			actorKind: 'admin',
			actorId: admin.id,
			action: 'appeal.assigned',
			subjectKind: 'appeal',
			subjectId: appealId,
			ip: '203.0.113.7',
			details: { toAgentId: agent.id, documentId, accountFound: true }
		});
		await audit(app, {
			actorKind: 'system',
			actorId: null,
			action: 'agent.disabled',
			subjectKind: 'agent',
			subjectId: agent.id
		});

		const [disabled, assigned] = await listAuditEvents(app, { action: 'a' }).then((rows) =>
			rows.filter((r) => r.subject?.id === appealId || r.subject?.id === agent.id)
		);
		expect(assigned).toMatchObject({
			actorKind: 'admin',
			actor: admin.username,
			action: 'appeal.assigned',
			subject: { kind: 'appeal', id: appealId, label: 'AP-TEST-0017' },
			ip: '203.0.113.7',
			details: [
				{ key: 'toAgentId', value: agent.username },
				{ key: 'documentId', value: `#${documentId.slice(0, 8)}` },
				{ key: 'accountFound', value: true }
			]
		});
		expect(disabled).toMatchObject({
			actor: null,
			subject: { kind: 'agent', label: agent.username },
			details: []
		});
		expect(JSON.stringify([assigned!.details, disabled!.details])).not.toMatch(UUID);
	});

	it('R22: a whole action filters to itself (underscores included); a group ("session.") or the start of a word is a prefix, its wildcards literal', async () => {
		const subjectId = randomUUID();
		for (const action of ['session.revoked', 'session.revoked_others', 'session.signed_in'])
			await audit(app, {
				actorKind: 'system',
				actorId: null,
				action,
				subjectKind: 'account',
				subjectId
			});
		const actions = async (action: string) =>
			(await listAuditEvents(app, { action, subjectId })).map((r) => r.action).sort();
		expect(await actions('session.revoked_others')).toEqual(['session.revoked_others']);
		expect(await actions('session.revoked')).toEqual(['session.revoked']);
		expect(await actions('session.')).toEqual([
			'session.revoked',
			'session.revoked_others',
			'session.signed_in'
		]);
		expect(await actions('sess')).toHaveLength(3);
		// "_" and "%" are letters in a prefix, not LIKE wildcards.
		expect(await actions('session.%')).toEqual([]);
		expect(await actions('session_')).toEqual([]);
	});
});
