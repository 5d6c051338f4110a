import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import { appealNoticeMessage } from '../../src/lib/server/appeals/messages';
import { POST as totpStart } from '../../src/routes/api/v1/account/two-factor/totp/+server';
import { POST as totpConfirm } from '../../src/routes/api/v1/account/two-factor/totp/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { twoStepSummary } from '../../src/lib/server/two-step';
import { testDatabases, type TestDatabase } from '../support/databases';
import type { TestApp } from '../support/app-context';
import { approvedByAnAgent, filedAppeal, openAppealTestApp } from '../support/appeals';
import { latestMessage } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { appCode } from '../support/two-step';

const PASSWORD = 'a long and quiet river';

describe.each(testDatabases)('R21: an approved appeal turns two-step off on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	// What the rebind removes; that two-step stays through §8a's hold is in recovery-hold.test.ts.
	beforeAll(
		async () =>
			({ database, app } = await openAppealTestApp(open, {
				env: { APPEAL_RECOVERY_HOLD_HOURS: '0' }
			}))
	);
	afterAll(() => database.dispose());

	async function accountWithTwoStep() {
		const email = uniqueEmail('appeal2fa');
		const row = await insertAccount(database.db, {
			email,
			password_hash: await hashPassword(PASSWORD),
			created_at: app.clock.now().getTime()
		});
		const jar: CookieJar = new Map();
		await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD }, jar });
		const { secret } = await (
			await callEndpoint(totpStart, app, { json: { currentPassword: PASSWORD }, jar })
		).json();
		expect(
			(await callEndpoint(totpConfirm, app, { json: { code: appCode(secret, app.clock) }, jar }))
				.status
		).toBe(201);
		// A passkey row as registration stores it (the WebAuthn ceremony is tested in passkeys.test.ts).
		await database.db
			.insertInto('passkeys')
			.values({
				id: `cred-${row.id}`,
				account_id: row.id,
				public_key: new Uint8Array([1, 2, 3]),
				counter: 0,
				transports: null,
				name: 'Phone',
				created_at: app.clock.now().getTime(),
				last_used_at: null
			})
			.execute();
		return { email, id: row.id };
	}

	async function approvedAppeal(email: string) {
		const filed = await filedAppeal(app, { identifier: email });
		// The notices are then the newest messages to each contact (ordered by time).
		app.clock.advance(60_000);
		expect(await approvedByAnAgent(app, filed.row.id)).toEqual({
			ok: true,
			outcome: 'approved'
		});
		return filed.newIdentifier;
	}

	it('TOTP, recovery codes and passkeys are deleted, and both notices say two-step is off', async () => {
		const person = await accountWithTwoStep();
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: true, passkeys: 1 });
		const newIdentifier = await approvedAppeal(person.email);
		expect(await twoStepSummary(app, person.id)).toEqual({ twoStep: false, passkeys: 0 });
		for (const table of ['account_totp', 'recovery_codes', 'passkeys'] as const) {
			const rows = await database.db
				.selectFrom(table)
				.select('account_id')
				.where('account_id', '=', person.id)
				.execute();
			expect({ table, rows }).toEqual({ table, rows: [] });
		}
		const toNew = await latestMessage(database.db, newIdentifier);
		const toOld = await latestMessage(database.db, person.email);
		expect(toNew.purpose).toBe('appeal_approved_new');
		expect(toOld.purpose).toBe('appeal_approved_old');
		for (const message of [toNew, toOld])
			expect(message.text).toContain('Two-step verification was turned off');
		// The new contact signs in with the password alone (the person lost the old factors).
		const jar: CookieJar = new Map();
		const res = await callEndpoint(signIn, app, {
			json: { identifier: newIdentifier, password: PASSWORD },
			jar
		});
		expect(res.status).toBe(201);
	});

	it('without two-step the notices say nothing about it', async () => {
		const account = await insertAccount(database.db);
		const newIdentifier = await approvedAppeal(account.email!);
		expect((await latestMessage(database.db, newIdentifier)).text).not.toContain('Two-step');
		expect((await latestMessage(database.db, account.email!)).text).not.toContain('Two-step');
	});

	it('the notice says it in Chinese too', () => {
		const zh = appealNoticeMessage(
			{ kind: 'email', value: 'a@example.com' },
			'approved_old',
			'A-1',
			'zh-CN',
			{ origin: undefined, twoStepOff: true }
		);
		expect(JSON.stringify(zh)).toContain('两步验证已关闭');
	});
});
