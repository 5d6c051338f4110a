import type { Locale } from '$lib/paraglide/runtime';
import type { Checkup, CheckupItem } from '$lib/types/checkup';
import { OPEN_APPEAL_STATUSES } from '$lib/types/account';
import { listAccountSessions } from '../accounts';
import type { Ctx } from '../core/context';
import { maskIdentifier } from '../core/identifiers';
import type { Account } from '../db/schema';
import { countRecoveryCodes, hasTotp, twoStepSummary } from '../two-step';

const DAY_MS = 24 * 60 * 60 * 1000;
/** §7c: a password set more than this long ago is old. */
const PASSWORD_OLD_AFTER_MS = 365 * DAY_MS;
/** §7c: security events this recent are shown as needing a look. */
const EVENTS_WINDOW_MS = 30 * DAY_MS;
/**
 * §7c: what the owner did not necessarily do themselves: a sign-in from a new device, a right
 * password whose second step failed, a wrong current password on a change, two-step turned off.
 */
const ATTENTION_EVENTS = [
	'account.new_device_alerted',
	'session.second_factor_failed',
	'account.password_change_failed',
	'account.two_step_off'
] as const;

/** §7c: with TOTP on, this many recovery codes left or fewer is to do (make new ones). */
const RECOVERY_CODES_LOW = 3;

/** §7c: only with TOTP on (recovery codes come with it); done while more than 3 are left. */
async function recoveryCodesItem(ctx: Ctx, accountId: string): Promise<CheckupItem[]> {
	if (!(await hasTotp(ctx, accountId))) return [];
	const count = await countRecoveryCodes(ctx, accountId);
	return [
		{
			code: 'recovery_codes',
			done: count > RECOVERY_CODES_LOW,
			href: '/account/security/two-step#totp-heading',
			count
		}
	];
}

async function recentAttentionEvents(ctx: Ctx, accountId: string, since: number) {
	return ctx.db
		.selectFrom('audit_events')
		.select(['at'])
		.where('subject_kind', '=', 'account')
		.where('subject_id', '=', accountId)
		.where('action', 'in', ATTENTION_EVENTS)
		.where('at', '>', since)
		.orderBy('at', 'desc')
		.execute();
}

async function hasOpenAppeal(ctx: Ctx, accountId: string): Promise<boolean> {
	const row = await ctx.db
		.selectFrom('appeals')
		.select('id')
		.where('account_id', '=', accountId)
		.where('status', 'in', OPEN_APPEAL_STATUSES)
		.executeTakeFirst();
	return row !== undefined;
}

function contactItem(account: Account, disputed: boolean): CheckupItem {
	const contacts = [
		...(account.email ? [maskIdentifier({ kind: 'email', value: account.email })] : []),
		...(account.phone ? [maskIdentifier({ kind: 'phone', value: account.phone })] : [])
	];
	// Every contact is bound only by a confirmed code (R8, R16, R21); it is in doubt while the
	// account is under review or an appeal asks to rebind it.
	const done = contacts.length > 0 && account.status === 'active' && !disputed;
	return { code: 'contact', done, href: '/account/contact', contacts };
}

/** The owner's checkup: what is done, what is to do, and where each is fixed. */
export async function securityCheckup(
	ctx: Ctx,
	account: Account,
	meta: { sessionId: string | null; locale: Locale }
): Promise<Checkup> {
	const now = ctx.clock.now().getTime();
	const [twoStep, recoveryCodes, sessions, events, disputed] = await Promise.all([
		twoStepSummary(ctx, account.id),
		recoveryCodesItem(ctx, account.id),
		listAccountSessions(ctx, account, meta),
		recentAttentionEvents(ctx, account.id, now - EVENTS_WINDOW_MS),
		hasOpenAppeal(ctx, account.id)
	]);
	const passwordSetAt = Number(account.password_changed_at ?? account.created_at);
	const items: CheckupItem[] = [
		contactItem(account, disputed),
		{
			code: 'two_step',
			done: twoStep.twoStep,
			href: '/account/security/two-step',
			passkeys: twoStep.passkeys
		},
		...recoveryCodes,
		{
			code: 'sessions',
			done: sessions.length <= 1,
			href: '/account/security/sessions',
			count: sessions.length
		},
		{
			code: 'events',
			done: events.length === 0,
			href: '/account#activity',
			count: events.length,
			...(events[0] ? { at: new Date(Number(events[0].at)).toISOString() } : {})
		},
		{
			code: 'password_age',
			done: now - passwordSetAt <= PASSWORD_OLD_AFTER_MS,
			href: '/account/security/password',
			at: new Date(passwordSetAt).toISOString()
		}
	];
	return { items, todo: items.filter((item) => !item.done).length };
}
