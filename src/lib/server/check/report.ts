import { regionName } from '$lib/format/countries';
import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { CheckReport, NextStep, Warning } from '$lib/types/check-report';
import { isLowActivity } from '../accounts';
import type { Ctx } from '../core/context';
import { contactChangeQuota } from '../contact-change';
import type { Account } from '../db/schema';
import { maskIdentifier, type Identifier } from '../core/identifiers';
import { MAX_WRONG_ATTEMPTS } from '../messaging';
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
	const show = (field: ReportField) => discloses(ctx.config.checkDisclosure, field, proven);

	const warnings: Warning[] = [];
	const country = viewer.requestCountry;
	const comparedWith = account?.country ?? intendedCountry;
	if (country && comparedWith && country !== comparedWith && show('warnings.ip_country_mismatch')) {
		warnings.push({
			code: 'ip_country_mismatch',
			requestCountry: country,
			message: account
				? m.warning_ip_country_mismatch({ country: regionName(country, getLocale()) })
				: m.warning_ip_country_mismatch_unregistered({ country: regionName(country, getLocale()) })
		});
	}
	if (account?.status === 'under_review' && show('warnings.under_review')) {
		warnings.push({ code: 'under_review', message: m.warning_under_review() });
	}
	if (
		account &&
		isLowActivity(account, now) &&
		account.status !== 'disabled' &&
		show('warnings.low_activity')
	) {
		warnings.push({ code: 'low_activity', message: m.warning_low_activity() });
	}
	// R10: the account's own flag (verified), or this very device having registered several.
	if (
		(account?.multiple_accounts_on_device && show('warnings.multiple_accounts_on_device')) ||
		(g.deviceAccounts > 1 && ctx.config.checkDisclosure !== 'strict')
	) {
		warnings.push({
			code: 'multiple_accounts_on_device',
			message: m.warning_multiple_accounts_on_device()
		});
	}
	if (g.appeal && show('warnings.appeal_open')) {
		warnings.push({ code: 'appeal_open', message: m.warning_appeal_open() });
	}

	const quota = contactChangeQuota(
		g.changes.map((c) => c.changed_at),
		now
	);
	const nextSteps: NextStep[] = [];
	// A registration waits for its code: continue it (enter the code, or resend) instead of a
	// second "register". The pending code is a public field already (R15a).
	const registering =
		g.code?.purpose === 'register' &&
		g.code.expires_at > now.getTime() &&
		g.code.attempts < MAX_WRONG_ATTEMPTS &&
		show('verification');
	if (!account) {
		nextSteps.push(
			registering
				? { action: 'continue_registration', href: '/register' }
				: { action: 'register', href: '/register' }
		);
	} else {
		// The signed-in owner is not offered "Sign in" (only they see that they are the owner).
		if (account.status !== 'disabled' && viewer.signedInAccountId !== account.id)
			nextSteps.push(
				{ action: 'sign_in', href: '/login' },
				{ action: 'forgot_password', href: '/forgot-password' }
			);
		if (show('contactChange') && account.status !== 'disabled') {
			nextSteps.push(
				quota.nextAllowedAt
					? { action: 'wait', until: quota.nextAllowedAt.toISOString() }
					: { action: 'change_contact', href: '/account/contact' }
			);
		}
		// An open appeal is a verified field: only a viewer who may see it loses the "Appeal" step.
		if (!(g.appeal && show('warnings.appeal_open')))
			nextSteps.push({ action: 'appeal', href: '/appeal' });
		// §7c: only where the verified tier is shown (the `security` field's tier).
		if (show('security') && account.status !== 'disabled' && !g.security.twoStep) {
			nextSteps.push({ action: 'turn_on_two_step', href: '/account/security/two-step' });
		}
	}

	const report: CheckReport = {
		identifier: { kind: identifier.kind, masked: maskIdentifier(identifier) },
		warnings,
		nextSteps: show('nextSteps') ? nextSteps : [],
		tier: proven || ctx.config.checkDisclosure === 'open' ? 'verified' : 'public',
		checkedAt: now.toISOString()
	};
	if (show('registered')) report.registered = account !== undefined;
	// §7b: the owner's freeze shows as its own status (the stored status is kept underneath).
	if (show('status'))
		report.status = account ? (account.frozen_at !== null ? 'frozen' : account.status) : null;
	if (show('verification')) {
		const code = g.code;
		const live = code && code.attempts < MAX_WRONG_ATTEMPTS;
		report.verification =
			live && code.expires_at > now.getTime()
				? {
						pending: true,
						purpose: code.purpose,
						expiresAt: new Date(code.expires_at).toISOString()
					}
				: live
					? {
							pending: false,
							expiredUnused: {
								purpose: code.purpose,
								expiredAt: new Date(code.expires_at).toISOString()
							}
						}
					: { pending: false };
	}
	if (account && show('contactChange')) {
		report.contactChange = {
			used: quota.used,
			limit: quota.limit,
			remaining: quota.remaining,
			windowDays: quota.windowDays,
			minIntervalDays: quota.minIntervalDays,
			nextAllowedAt: quota.nextAllowedAt?.toISOString() ?? null
		};
	}
	if (account && show('contacts')) {
		report.contacts = [
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
	if (account && show('recentActivity')) {
		report.recentActivity = g.activity.map((a) => ({
			action: a.action,
			at: new Date(a.at).toISOString(),
			country: (JSON.parse(a.details ?? '{}') as { ipCountry?: string | null }).ipCountry ?? null
		}));
	}
	if (account && show('security')) report.security = g.security;
	// §8a: a recovery pending on the account, and until when it can be stopped.
	if (account && show('recovery')) {
		const held = g.appeal?.status === 'approved' && g.appeal.rebind_due_at !== null;
		report.recovery = g.appeal
			? {
					approved: held,
					effectiveAt: held ? new Date(Number(g.appeal.rebind_due_at)).toISOString() : null,
					decisionDueAt: new Date(Number(g.appeal.due_at)).toISOString()
				}
			: null;
	}
	return report;
}
