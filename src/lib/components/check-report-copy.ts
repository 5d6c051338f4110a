import { regionName } from '$lib/format/countries';
import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type {
	CheckReport,
	CodePurpose,
	NextStep,
	ReportStatus,
	Warning
} from '$lib/types/check-report';

/**
 * What the check report (CheckReport.svelte) says for each code the server sends: one statement
 * per fact (the badge says registered or not, the guidance only what to do about it), in words
 * that fit the kind of identifier checked. Called at render time, so the page's language applies.
 */
type Kind = CheckReport['identifier']['kind'];

const stepLabels: Record<Exclude<NextStep['action'], 'wait' | 'register'>, () => string> = {
	continue_registration: m.step_continue_registration,
	sign_in: m.step_sign_in,
	forgot_password: m.step_forgot_password,
	change_contact: m.step_change_contact,
	appeal: m.step_appeal,
	turn_on_two_step: m.step_turn_on_two_step
};

export function stepLabel(action: Exclude<NextStep['action'], 'wait'>, kind: Kind): string {
	if (action === 'register') return kind === 'phone' ? m.step_register_phone() : m.step_register();
	return stepLabels[action]();
}

/**
 * The steps whose page takes what was checked, in a POST (R14: never in a URL), and the action
 * it posts to: `resume` finds this browser's pending code step (register, forgot password);
 * `fromCheck` only fills the page's first field (sign in, change contact, appeal).
 */
export const carriedSteps: ReadonlyMap<NextStep['action'], 'resume' | 'fromCheck'> = new Map([
	['register', 'resume'],
	['continue_registration', 'resume'],
	['forgot_password', 'resume'],
	['sign_in', 'fromCheck'],
	['change_contact', 'fromCheck'],
	['appeal', 'fromCheck']
]);

const statusVerdicts: Record<ReportStatus, { label: () => string; badge: string }> = {
	active: { label: m.ck_verdict_active, badge: 'badge-ok' },
	under_review: { label: m.ck_verdict_under_review, badge: 'badge-attention' },
	disabled: { label: m.ck_verdict_disabled, badge: 'badge-danger' },
	frozen: { label: m.ck_verdict_frozen, badge: 'badge-attention' }
};

/** R13: the one place the report says whether the identifier is registered, and its status. */
export function verdictOf(report: CheckReport): { key: string; badge: string; label: string } {
	if (report.registered === undefined)
		return { key: 'hidden', badge: 'badge-neutral', label: m.ck_verdict_hidden() };
	if (!report.registered)
		return { key: 'unregistered', badge: 'badge-info', label: m.ck_verdict_unregistered() };
	if (!report.status)
		return { key: 'registered', badge: 'badge-info', label: m.ck_verdict_registered() };
	const verdict = statusVerdicts[report.status];
	return { key: report.status, badge: verdict.badge, label: verdict.label() };
}

/**
 * What to do about the verdict, without saying it again. A registration waiting for its code
 * gets none: the pending code's own notice and "Enter your code" say it.
 */
export function guidanceOf(report: CheckReport, registering: boolean): string {
	const phone = report.identifier.kind === 'phone';
	if (report.registered === undefined)
		return phone ? m.ck_guide_hidden_phone() : m.ck_guide_hidden_email();
	if (!report.registered) {
		if (registering) return '';
		return phone ? m.ck_guide_unregistered_phone() : m.ck_guide_unregistered_email();
	}
	if (report.status === 'disabled') return m.ck_guide_disabled();
	if (report.status === 'frozen') return m.ck_guide_frozen();
	return phone ? m.ck_guide_registered_phone() : m.ck_guide_registered_email();
}

export const verifiedText = (kind: Kind) =>
	kind === 'phone' ? m.ck_verified_phone() : m.ck_verified_email();

const purposeLabels: Record<CodePurpose, () => string> = {
	register: m.code_purpose_register,
	check: m.code_purpose_check,
	contact_change: m.code_purpose_contact_change,
	password_reset: m.code_purpose_password_reset,
	appeal: m.code_purpose_appeal
};

export const purposeLabel = (purpose: CodePurpose) => purposeLabels[purpose]();

export function codeSentText(kind: Kind, purpose: CodePurpose, time: string): string {
	const params = { purpose: purposeLabel(purpose), time };
	return kind === 'phone' ? m.ck_code_sent_phone(params) : m.ck_code_sent_email(params);
}

export const warningCallouts: Record<Warning['code'], string> = {
	ip_country_mismatch: 'callout-attention',
	under_review: 'callout-attention',
	multiple_accounts_on_device: 'callout-attention',
	low_activity: 'callout-info',
	appeal_open: 'callout-info'
};

/** Warnings are written here from their codes, so country names follow the page's language. */
export function warningText(warning: Warning, registered: boolean | undefined): string {
	if (warning.code !== 'ip_country_mismatch' || !warning.requestCountry) return warning.message;
	const country = regionName(warning.requestCountry, getLocale());
	return registered === false
		? m.warning_ip_country_mismatch_unregistered({ country })
		: m.warning_ip_country_mismatch({ country });
}
