import { uniqueEmail } from '../support/factories';
import {
	appealedAccount,
	insertAppeal,
	overflowsSideways,
	signInNewAgent
} from './console-helpers';
import { expect, ready, test } from './fixtures';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

test.describe('support console', () => {
	test('R22 words: roles, account status and country are labels; the audit log has no UUIDs or JSON', async ({
		page,
		request,
		db,
		axe
	}) => {
		test.setTimeout(60_000);
		const { appeal } = appealedAccount(db, { country: 'CN' });
		const admin = await signInNewAgent(page, request, 'admin');
		await expect(page.getByRole('navigation', { name: 'Support console' })).toContainText(
			`Signed in as ${admin.username} (administrator)`
		);

		const row = page.locator(`tr[data-reference="${appeal.reference}"]`);
		await expect(row).toContainText('Submitted, not claimed yet');
		await row.getByRole('link', { name: appeal.reference }).click();
		const accountFact = page.locator('[data-account-summary]');
		await expect(accountFact).toContainText('Active');
		await expect(accountFact).toContainText('China');
		await expect(accountFact).not.toContainText('active, CN');
		await axe(page);

		await page.goto(`/support/audit?subject=${appeal.id}`);
		const table = page.locator('.table-wrap table');
		for (const column of ['When', 'Who', 'What', 'Where', 'Details'])
			await expect(table.getByRole('columnheader', { name: column })).toBeVisible();
		const submitted = table.locator('tbody tr').filter({ hasText: 'Appeal submitted' });
		await expect(submitted).toHaveCount(1);
		await expect(submitted).toContainText(`Appeal ${appeal.reference}`);
		await expect(submitted).toContainText('Someone not signed in');
		await expect(submitted.locator('dt', { hasText: 'Documents' })).toBeVisible();
		const text = (await table.innerText()) ?? '';
		expect(text).not.toMatch(UUID);
		expect(text).not.toMatch(/[{}"]/);
		await axe(page);
		if (process.env.DOCS_SCREENSHOTS === '1')
			await page.screenshot({ path: 'docs/screenshots/support-audit.png', fullPage: true });

		// R22: the action filter lists actions by name (a form: the same with JavaScript off).
		await page.getByLabel('Action').selectOption({ label: 'Appeal submitted' });
		await page.getByRole('button', { name: 'Apply' }).click();
		await expect(page).toHaveURL(/action=appeal\.submitted/);
		await expect(page.getByLabel('Action')).toHaveValue('appeal.submitted');
		const rows = page.locator('.table-wrap tbody tr');
		await expect(rows).not.toHaveCount(0);
		for (const text of await rows.allInnerTexts()) expect(text).toContain('Appeal submitted');
		await page.getByLabel('Action').selectOption({ label: 'All “Appeals” actions' });
		await page.getByRole('button', { name: 'Apply' }).click();
		await expect(page).toHaveURL(/action=appeal\./);
	});

	test.describe('in Chinese', () => {
		test.use({ locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' } });

		test('R22 words in zh-CN: role, status and country are Chinese labels', async ({
			page,
			request,
			db
		}) => {
			test.setTimeout(60_000);
			const { appeal } = appealedAccount(db, { country: 'CN' });
			const admin = await signInNewAgent(page, request, 'admin', {
				username: '用户名',
				password: '密码',
				otp: '验证器代码',
				submit: '登录'
			});
			const nav = page.getByRole('navigation', { name: '客服控制台' });
			await expect(nav).toContainText(`当前登录：${admin.username}（管理员）`);
			await expect(nav).not.toContainText('admin）');
			await page.goto(`/support/appeals/${appeal.id}`);
			const accountFact = page.locator('[data-account-summary]');
			await expect(accountFact).toContainText('正常');
			await expect(accountFact).toContainText('中国');
			await expect(accountFact).not.toContainText('CN');
			await page.goto(`/support/audit?subject=${appeal.id}`);
			await expect(page.locator('tbody tr').filter({ hasText: '提交了申诉' })).toHaveCount(1);
		});
	});

	for (const javaScriptEnabled of [true, false]) {
		test.describe(`JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
			test.use({ javaScriptEnabled });

			test('R21: Reject is a danger button that needs a confirmation; a disabled Approve says why; the deadline is plain', async ({
				page,
				request,
				db,
				axe
			}) => {
				test.setTimeout(60_000);
				const { appeal } = appealedAccount(db);
				const agent = await signInNewAgent(page, request, 'agent');
				await page.goto(`/support/appeals/${appeal.id}`);
				await expect(page.locator('[data-deadline]')).toContainText(
					'Decide within 48 hours of submission: by'
				);
				await page.getByRole('button', { name: 'Claim' }).click();
				await ready(page, javaScriptEnabled);

				// R21: asking for information waits for the person; Approve says so, also to screen readers.
				await page
					.getByLabel('Reason (the person will read it)')
					.fill('Please send a clearer photo.');
				await page.getByRole('button', { name: 'Ask for more information' }).click();
				await expect(page.getByRole('status')).toContainText('asked for more information');
				const approve = page.getByRole('button', { name: 'Approve and rebind' });
				await expect(approve).toBeDisabled();
				await expect(approve).toHaveAccessibleDescription(
					'Waiting for the person’s answer: approve once they have sent it.'
				);
				await expect(page.getByText('Waiting for the person’s answer')).toBeVisible();

				const reject = page.getByRole('button', { name: 'Reject' });
				await expect(reject).toHaveClass(/\bbtn-danger\b/);
				await page
					.getByLabel('Reason (the person will read it)')
					.fill('The documents do not match.');
				await reject.click();
				await expect(page.locator('[data-code="confirm_required"]')).toBeVisible();
				await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'needs_info');
				if (javaScriptEnabled && process.env.DOCS_SCREENSHOTS === '1')
					await page.screenshot({ path: 'docs/screenshots/support-reject.png', fullPage: true });

				await page
					.getByLabel('Reason (the person will read it)')
					.fill('The documents do not match.');
				await page.getByLabel('I confirm: rejecting is final').check();
				await page.getByRole('button', { name: 'Reject' }).click();
				await expect(page.getByRole('status')).toContainText('Rejected');
				await expect(page.locator('[data-status]')).toHaveAttribute('data-status', 'rejected');
				// R22: after the decision the page says who decided, not "You are working on it".
				await expect(page.locator('[data-decided-by]')).toContainText(
					`Decided by ${agent.username}`
				);
				await expect(page.getByText('You are working on this appeal.')).toHaveCount(0);
				await axe(page);
			});
		});
	}

	// §8: Approve has a confirmation step that says what follows; the warning signs come first.
	const words = {
		en: {
			signIn: undefined,
			claim: 'Claim',
			approve: 'Approve and rebind',
			confirm: 'I confirm the approval',
			hold: 'recovery hold of 72 hours',
			evidence: 'Warning signs',
			newCountry: 'Filed from a network country this account never used',
			country: 'United States',
			none: 'No warning signs found.',
			needed: 'Tick “I confirm” to approve',
			approved: 'Approved'
		},
		'zh-CN': {
			signIn: { username: '用户名', password: '密码', otp: '验证器代码', submit: '登录' },
			claim: '认领',
			approve: '批准并换绑',
			confirm: '我确认批准',
			hold: '72 小时的恢复等待期',
			evidence: '风险信号',
			newCountry: '提交申诉的网络所在国家/地区从未被该账户使用过',
			country: '美国',
			none: '未发现风险信号。',
			needed: '请先勾选“我确认”再批准',
			approved: '已批准'
		}
	} as const;
	for (const locale of ['en', 'zh-CN'] as const) {
		for (const javaScriptEnabled of [true, false]) {
			test.describe(`§8 approve in ${locale}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
				test.use({
					javaScriptEnabled,
					locale,
					extraHTTPHeaders: { 'accept-language': locale === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }
				});

				test('§8: the agent reads the warning signs, then approves only through the confirm step', async ({
					page,
					request,
					db,
					axe
				}) => {
					test.setTimeout(60_000);
					const wording = words[locale];
					const { appeal } = appealedAccount(
						db,
						{ country: 'CN', reg_ip_country: 'CN' },
						{ ipCountry: 'US' }
					);
					const calm = db.insertAccount({ email: uniqueEmail('calm'), reg_ip_country: 'CN' });
					const quiet = insertAppeal(db.insert, {
						accountId: calm.id,
						oldIdentifier: calm.email!,
						newIdentifier: uniqueEmail('found'),
						ipCountry: 'CN'
					});
					await signInNewAgent(page, request, 'agent', wording.signIn);

					await page.goto(`/support/appeals/${quiet.id}`);
					await expect(page.locator('[data-evidence]')).toContainText(wording.none);

					await page.goto(`/support/appeals/${appeal.id}`);
					const evidence = page.getByRole('region', { name: wording.evidence });
					const flag = evidence.getByRole('listitem').filter({
						has: page.getByRole('heading', { name: wording.newCountry })
					});
					await expect(flag).toBeVisible();
					await expect(flag).toContainText(wording.country);
					await expect(evidence).not.toContainText('new_network_country');
					await expect(evidence).not.toContainText(wording.none);

					await page.getByRole('button', { name: wording.claim }).click();
					await ready(page, javaScriptEnabled);
					const confirm = page.getByLabel(wording.confirm);
					await expect(confirm).toBeVisible();
					await expect(page.locator('form.approve label')).toContainText(wording.hold);

					await page.getByRole('button', { name: wording.approve }).click();
					const needed = page.locator('[data-code="confirm_required"]');
					await expect(needed).toHaveCount(1);
					await expect(needed).toContainText(wording.needed);
					await expect(page.locator('[data-status]').first()).toHaveAttribute(
						'data-status',
						'in_review'
					);
					await axe(page);

					await page.getByLabel(wording.confirm).check();
					await page.getByRole('button', { name: wording.approve }).click();
					await expect(page.getByRole('status')).toContainText(wording.approved);
					await expect(page.locator('[data-status]').first()).toHaveAttribute(
						'data-status',
						'approved'
					);
					await expect(page.locator('[data-code="confirm_required"]')).toHaveCount(0);
				});
			});
		}
	}

	test('§8: the queue finds approvals in their hold and cancelled appeals, with who and when', async ({
		page,
		request,
		db,
		axe
	}) => {
		test.setTimeout(60_000);
		const hour = 3_600_000;
		const appealOf = (extra: Record<string, unknown>) => appealedAccount(db, {}, { extra }).appeal;
		const held = appealOf({
			status: 'approved',
			decided_at: Date.now(),
			rebind_due_at: Date.now() + 72 * hour
		});
		const byLink = appealOf({
			status: 'cancelled',
			cancelled_at: Date.now() - hour,
			cancelled_by: 'link'
		});
		const byOwner = appealOf({
			status: 'cancelled',
			cancelled_at: Date.now() - 2 * hour,
			cancelled_by: 'owner'
		});
		await signInNewAgent(page, request, 'agent');

		await page.getByLabel('Show').selectOption({ label: 'Approved, in the recovery hold' });
		await page.getByRole('button', { name: 'Apply' }).click();
		await expect(page).toHaveURL(/status=held/);
		const heldRow = page.locator(`tr[data-reference="${held.reference}"]`);
		await expect(heldRow).toContainText('In the recovery hold; rebinds at');
		await expect(page.locator(`tr[data-reference="${byLink.reference}"]`)).toHaveCount(0);

		await page.goto('/support?status=cancelled');
		await expect(page.locator(`tr[data-reference="${byLink.reference}"]`)).toContainText(
			'Cancelled through the link sent to an old contact, at'
		);
		const ownerRow = page.locator(`tr[data-reference="${byOwner.reference}"]`);
		await expect(ownerRow).toContainText('Cancelled by the account’s holder');
		await expect(ownerRow).toContainText('Cancelled by the owner, signed in, at');
		await expect(ownerRow).toContainText('Closed');
		await axe(page);

		await ownerRow.getByRole('link', { name: byOwner.reference }).click();
		await expect(page.locator('[data-status]').first()).toContainText(
			'Cancelled by the owner, signed in, at'
		);
		await expect(page.getByRole('button', { name: 'Approve and rebind' })).toHaveCount(0);
	});

	test.describe('on a 390 px phone', () => {
		test.use({ viewport: { width: 390, height: 844 } });

		test('the queue, an appeal and the audit log never scroll the page sideways', async ({
			page,
			request,
			db
		}) => {
			test.setTimeout(60_000);
			const lost = `a.very.long.mailbox.name.${Date.now()}@example-long-domain.com`;
			const account = db.insertAccount({ email: lost });
			const appeal = insertAppeal(db.insert, {
				accountId: account.id,
				oldIdentifier: lost,
				newIdentifier: uniqueEmail('found')
			});
			await signInNewAgent(page, request, 'admin');
			await expect(page.locator(`tr[data-reference="${appeal.reference}"]`)).toBeVisible();
			expect(await overflowsSideways(page)).toBe(false);
			if (process.env.DOCS_SCREENSHOTS === '1')
				await page.screenshot({ path: 'docs/screenshots/support-queue-phone.png', fullPage: true });
			await page.goto(`/support/appeals/${appeal.id}`);
			expect(await overflowsSideways(page)).toBe(false);
			await page.goto('/support/audit');
			expect(await overflowsSideways(page)).toBe(false);
			await page.goto(`/support/accounts/${account.id}`);
			expect(await overflowsSideways(page)).toBe(false);
		});
	});
});
