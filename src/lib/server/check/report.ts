import { regionName } from '$lib/format/countries';
import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { CheckReport, NextStep, Warning } from '$lib/types/check-report';
import { isLowActivity } from '../accounts';
import type { Ctx } from '../core/context';
import { contactChangeQuota } from '../contact-change';
import type { Account } from '../db/schema';
import { maskIdentifier, type Identifier } from '../core/identifiers';
import { isCodeLive, isCodeExhausted } from '../messaging';
import { discloses, type ReportField } from './disclosure';
import { gather } from './reads';

/** Who is asking: R9 compares their network's country, R10 their device, R15a their proof. */
export interface Viewer {
	requestCountry: string | null;
	deviceId: string;
	/** The client address (canonical); limits and check events count its network. */
	address: string;
	/** The signed-in account, if any: its owner is not offered "Sign in". */
	signedInAccountId?: string | null;
	/** Signed-in owner, agent, or a `check` code confirmed in this browser. */
	proven: (identifier: Identifier, account: Account | undefined) => boolean;
}

type Gathered = Awaited<ReturnType<typeof gather>>;
type Show = (field: ReportField) => boolean;

/** R13: the full report, then R15a strips what the viewer may not see. */
export async function buildReport(
	ctx: Ctx,
	identifier: Identifier,
	intendedCountry: string | undefined,
	viewer: Viewer
): Promise<CheckReport> {
	const g = await gather(ctx, identifier, viewer.deviceId);
	const { account, now } = g;
	const proven = viewer.proven(identifier, account);
	const show: Show = (field) => discloses(ctx.config.checkDisclosure, field, proven);
	const quota = contactChangeQuota(
		g.changes.map((c) => c.changed_at),
		now
	);
	const nextSteps = account
		? accountSteps(g, account, quota, viewer, show)
		: newcomerSteps(g, show);
	const report: CheckReport = {
		identifier: { kind: identifier.kind, masked: maskIdentifier(identifier) },
		warnings: warnings(ctx, g, intendedCountry, viewer, show),
		// R9: null says plainly that nothing could be compared (R15a: the asker's own network, the
		// same for every identifier, so every disclosure mode shows it).
		networkCountry: viewer.requestCountry,
		nextSteps: show('nextSteps') ? nextSteps : [],
		tier: proven || ctx.config.checkDisclosure === 'open' ? 'verified' : 'public',
		checkedAt: now.toISOString()
	};
	if (show('registered')) report.registered = account !== undefined;
	// §7b: the owner's freeze shows as its own status (the stored status is kept underneath).
	if (show('status'))
		report.status = account ? (account.frozen_at !== null ? 'frozen' : account.status) : null;
	if (show('verification')) report.verification = verification(g.code, now);
	if (account) accountSections(report, g, account, quota, show);
	return report;
}

/** R9–R11 and the appeal: what the report warns of, each only where its field is shown. */
function warnings(
	ctx: Ctx,
	g: Gathered,
	intendedCountry: string | undefined,
	viewer: Viewer,
	show: Show
): Warning[] {
	const { account, now } = g;
	const list: Warning[] = [];
	const country = viewer.requestCountry;
	const comparedWith = account?.country ?? intendedCountry;
	if (country && comparedWith && country !== comparedWith && show('warnings.ip_country_mismatch')) {
		const region = { country: regionName(country, getLocale()) };
		list.push({
			code: 'ip_country_mismatch',
			requestCountry: country,
			message: account
				? m.warning_ip_country_mismatch(region)
				: m.warning_ip_country_mismatch_unregistered(region)
		});
	}
	if (account?.status === 'under_review' && show('warnings.under_review')) {
		list.push({ code: 'under_review', message: m.warning_under_review() });
	}
	if (
		account &&
		isLowActivity(account, now) &&
		account.status !== 'disabled' &&
		show('warnings.low_activity')
	) {
		list.push({ code: 'low_activity', message: m.warning_low_activity() });
	}
	// R10: the account's own flag (verified), or this very device having registered several.
	if (
		(account?.multiple_accounts_on_device && show('warnings.multiple_accounts_on_device')) ||
		(g.deviceAccounts > 1 && ctx.config.checkDisclosure !== 'strict')
	) {
		list.push({
			code: 'multiple_accounts_on_device',
			message: m.warning_multiple_accounts_on_device()
		});
	}
	if (g.appeal && show('warnings.appeal_open')) {
		list.push({ code: 'appeal_open', message: m.warning_appeal_open() });
	}
	return list;
}

/**
 * No account: register. A registration waits for its code: continue it (enter the code, or
 * resend) instead of a second "register". The pending code is a public field already (R15a).
 */
function newcomerSteps(g: Gathered, show: Show): NextStep[] {
	const registering =
		g.code?.purpose === 'register' && isCodeLive(g.code, g.now.getTime()) && show('verification');
	return [
		registering
			? { action: 'continue_registration', href: '/register' }
			: { action: 'register', href: '/register' }
	];
}

type Quota = ReturnType<typeof contactChangeQuota>;

/** What the holder of a registered identifier can do next. */
function accountSteps(
	g: Gathered,
	account: Account,
	quota: Quota,
	viewer: Viewer,
	show: Show
): NextStep[] {
	const steps: NextStep[] = [];
	const usable = account.status !== 'disabled';
	// The signed-in owner is not offered "Sign in" (only they see that they are the owner).
	if (usable && viewer.signedInAccountId !== account.id)
		steps.push(
			{ action: 'sign_in', href: '/login' },
			{ action: 'forgot_password', href: '/forgot-password' }
		);
	if (show('contactChange') && usable) {
		steps.push(
			quota.nextAllowedAt
				? { action: 'wait', until: quota.nextAllowedAt.toISOString() }
				: { action: 'change_contact', href: '/account/contact' }
		);
	}
	// An open appeal is a verified field: only a viewer who may see it loses the "Appeal" step.
	if (!(g.appeal && show('warnings.appeal_open')))
		steps.push({ action: 'appeal', href: '/appeal' });
	// §7c: only where the verified tier is shown (the `security` field's tier).
	if (show('security') && usable && !g.security.twoStep) {
		steps.push({ action: 'turn_on_two_step', href: '/account/security/two-step' });
	}
	return steps;
}

/** R6 through R13: a live code is pending; one expired with tries left shows as expired unused. */
function verification(code: Gathered['code'], now: Date): CheckReport['verification'] {
	if (!code || isCodeExhausted(code)) return { pending: false };
	if (isCodeLive(code, now.getTime()))
		return {
			pending: true,
			purpose: code.purpose,
			expiresAt: new Date(code.expires_at).toISOString()
		};
	return {
		pending: false,
		expiredUnused: { purpose: code.purpose, expiredAt: new Date(code.expires_at).toISOString() }
	};
}

/** The sections only a registered identifier has, each where its field is shown (R15a). */
function accountSections(
	report: CheckReport,
	g: Gathered,
	account: Account,
	quota: Quota,
	show: Show
): void {
	if (show('contactChange')) {
		report.contactChange = {
			used: quota.used,
			limit: quota.limit,
			remaining: quota.remaining,
			windowDays: quota.windowDays,
			minIntervalDays: quota.minIntervalDays,
			nextAllowedAt: quota.nextAllowedAt?.toISOString() ?? null
		};
	}
	if (show('contacts')) report.contacts = contacts(account);
	if (show('recentActivity')) {
		report.recentActivity = g.activity.map((a) => ({
			action: a.action,
			at: new Date(a.at).toISOString(),
			country: (JSON.parse(a.details ?? '{}') as { ipCountry?: string | null }).ipCountry ?? null
		}));
	}
	if (show('security')) report.security = g.security;
	if (show('recovery')) report.recovery = recovery(g.appeal);
}

/** The account's bound contacts, masked: its email first, then its phone. */
function contacts(account: Account): NonNullable<CheckReport['contacts']> {
	return [
		...(account.email
			? [
					{
						kind: 'email' as const,
						masked: maskIdentifier({ kind: 'email', value: account.email })
					}
				]
			: []),
		...(account.phone
			? [
					{
						kind: 'phone' as const,
						masked: maskIdentifier({ kind: 'phone', value: account.phone })
					}
				]
			: [])
	];
}

/** §8a: a recovery pending on the account, and until when it can be stopped. */
function recovery(appeal: Gathered['appeal']): CheckReport['recovery'] {
	if (!appeal) return null;
	const held = appeal.status === 'approved' && appeal.rebind_due_at !== null;
	return {
		approved: held,
		effectiveAt: held ? new Date(Number(appeal.rebind_due_at)).toISOString() : null,
		decisionDueAt: new Date(Number(appeal.due_at)).toISOString()
	};
}
