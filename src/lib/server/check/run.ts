import { sql } from 'kysely';
import { regionName } from '$lib/format/countries';
import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { CheckReport, NextStep, Warning } from '$lib/types/check-report';
import {
	findAccountByIdentifier,
	isLowActivity,
	countAccountsOnDevice,
	SESSION_IDLE_TIMEOUT_MS
} from '../accounts';
import type { Ctx } from '../core/context';
import { contactChangeQuota } from '../contact-change';
import type { Account } from '../db/schema';
import { precompiled } from '../db/precompiled';
import { writeCheckEvent } from './events';
import { discloses, type ReportField } from './disclosure';
import { failure, failures, type Failure } from '../core/failures';
import { maskIdentifier, parseIdentifier, type Identifier } from '../core/identifiers';
import { addressKey } from '../platform/address-key';
import { countCheck } from '../platform/metrics';
import { confirmCheckCode } from './verification';
import { limit, limitAddress } from '../platform/limits';
import { MAX_WRONG_ATTEMPTS } from '../messaging';

/** Which of the check's two limits refused a check (R15): the asking network's, or the identifier's. */
type CheckLimit = 'network' | 'identifier';

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

const OPEN_APPEAL = ['submitted', 'in_review', 'needs_info'] as const;

const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

/** The check's reads, compiled once (db/precompiled.ts): the same statements for every check. */
const reads = {
	code: precompiled((db, p: { identifier: string }) =>
		db
			.selectFrom('verification_codes')
			.select(['purpose', 'expires_at', 'attempts'])
			.where('identifier', '=', p.identifier)
			.where('consumed_at', 'is', null)
			.orderBy('created_at', 'desc')
			.limit(1)
	),
	changes: precompiled((db, p: { accountId: string }) =>
		db.selectFrom('contact_changes').select('changed_at').where('account_id', '=', p.accountId)
	),
	// An open appeal, or (§8a) an approved one still waiting out its hold; the held one first.
	appeal: precompiled((db, p: { accountId: string; now: number }) =>
		db
			.selectFrom('appeals')
			.select(['due_at', 'status', 'rebind_due_at'])
			.where('account_id', '=', p.accountId)
			.where('rebound_at', 'is', null)
			.where((eb) =>
				eb.or([
					eb('status', 'in', OPEN_APPEAL),
					eb.and([eb('status', '=', 'approved'), eb('rebind_due_at', '>', p.now)])
				])
			)
			.orderBy(sql`case when status = 'approved' then 0 else 1 end`)
			.orderBy('created_at', 'desc')
			.limit(1)
	),
	activity: precompiled((db, p: { accountId: string }) =>
		db
			.selectFrom('audit_events')
			.select(['action', 'at', 'details'])
			.where('subject_kind', '=', 'account')
			.where('subject_id', '=', p.accountId)
			.orderBy('at', 'desc')
			.limit(5)
	),
	// §7c: the verified tier's `security` (two-step on, passkeys, live sessions), in one
	// statement: three scalar subqueries, one round trip.
	security: precompiled((db, p: { accountId: string; now: number; idleSince: number }) =>
		db.selectNoFrom((eb) => [
			eb
				.selectFrom('account_totp')
				.select((sub) => sub.fn.countAll<number>().as('n'))
				.where('account_id', '=', p.accountId)
				.where('confirmed_at', 'is not', null)
				.as('totp'),
			eb
				.selectFrom('passkeys')
				.select((sub) => sub.fn.countAll<number>().as('n'))
				.where('account_id', '=', p.accountId)
				.as('passkeys'),
			eb
				.selectFrom('sessions')
				.select((sub) => sub.fn.countAll<number>().as('n'))
				.where('account_id', '=', p.accountId)
				.where('expires_at', '>', p.now)
				.where('last_active_at', '>', p.idleSince)
				.as('sessions')
		])
	)
};

/** Everything the report can say, read with the same queries whether or not an account exists. */
async function gather(ctx: Ctx, identifier: Identifier, deviceId: string) {
	const { db } = ctx;
	const now = ctx.clock.now();
	const account = await findAccountByIdentifier(ctx, identifier);
	// For an unknown identifier the same queries run against an id that matches nothing (R15).
	const accountId = account?.id ?? NO_ACCOUNT;
	const at = now.getTime();
	const [code, changes, appeal, activity, deviceAccounts, counts] = await Promise.all([
		reads.code.first(db, { identifier: identifier.value }),
		reads.changes.execute(db, { accountId }),
		reads.appeal.first(db, { accountId, now: at }),
		reads.activity.execute(db, { accountId }),
		countAccountsOnDevice(ctx, deviceId),
		reads.security.first(db, { accountId, now: at, idleSince: at - SESSION_IDLE_TIMEOUT_MS })
	]);
	const passkeys = Number(counts?.passkeys ?? 0);
	const security = {
		twoStep: Number(counts?.totp ?? 0) > 0 || passkeys > 0,
		passkeys,
		activeSessions: Number(counts?.sessions ?? 0)
	};
	return { now, account, code, changes, appeal, activity, deviceAccounts, security };
}

/** R13: the full report, then R15a strips what the viewer may not see. */
async function buildReport(
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

/** `proven`: the identifier a right code proved control of in this request (R15a), else null. */
export type CheckOutcome =
	| { ok: true; report: CheckReport; proven: Identifier | null }
	| (Failure & { report?: CheckReport });

/**
 * The one entry point of the check for the form actions and the JSON API alike (R14): rate
 * limits (R15) → parse → optional proof (R15a: a `check` code) → report → count. The public
 * check and the verified one are the same function, so every disclosed report is limited and
 * counted whichever way it was asked for. A wrong code still answers the public report.
 */
export async function runCheck(
	ctx: Ctx,
	input: { identifier: string; country?: string | undefined },
	viewer: Viewer,
	proof?: { code: string }
): Promise<CheckOutcome> {
	const rules = ctx.config.checkRateLimit;
	const ipKey = addressKey(ctx.keys, viewer.address);
	const byIp = await limitAddress(ctx, 'check', viewer.address, {
		max: rules.perIp,
		windowMs: rules.windowMs
	});
	if (!byIp.ok) return checkRateLimited(ctx, ipKey, '', 'network', byIp.retryAfterSeconds);
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) return failures.invalidIdentifier(parsed.problem);
	const idKey = ctx.keys.hmac('identifier', parsed.identifier.value);
	const byId = await limit(ctx, `check:id:${idKey}`, {
		max: rules.perIdentifier,
		windowMs: rules.windowMs
	});
	if (!byId.ok) return checkRateLimited(ctx, ipKey, idKey, 'identifier', byId.retryAfterSeconds);
	const confirmed = proof ? await confirmCheckCode(ctx, parsed.identifier, proof.code) : null;
	const proven = confirmed?.ok === true;
	const report = await buildReport(
		ctx,
		parsed.identifier,
		input.country,
		proven ? { ...viewer, proven: () => true } : viewer
	);
	await recordCheck(
		ctx,
		ipKey,
		idKey,
		report.registered === undefined ? 'hidden' : report.registered ? 'registered' : 'unregistered'
	);
	if (confirmed && !confirmed.ok) return { ...confirmed, report };
	return { ok: true, report, proven: proven ? parsed.identifier : null };
}

/**
 * R15: a refused check is counted too, so bursts and rejections show in metrics and to agents.
 * `limit` says which limit refused it, so the page blocks only what is blocked: the identifier
 * limit counts checks of that identifier whether or not it is registered, so naming it tells
 * nothing about an account.
 */
async function checkRateLimited(
	ctx: Ctx,
	ipKey: string,
	identifierKey: string,
	limit: CheckLimit,
	seconds: number
): Promise<Failure> {
	await recordCheck(ctx, ipKey, identifierKey, 'rate_limited');
	const minutes = Math.ceil(seconds / 60);
	return failure(
		429,
		'rate_limited',
		limit === 'network'
			? m.error_check_rate_limited({ minutes })
			: m.ck_rate_limited_identifier({ minutes }),
		{ retryAfterSeconds: seconds, extra: { limit } }
	);
}

/**
 * R15: every check counted, by keyed hashes only: in the shared database (bursts per address for
 * agents, the history in metrics) and in this process's counter (which instances sum).
 */
async function recordCheck(
	ctx: Ctx,
	ipKey: string,
	identifierKey: string,
	outcome: string
): Promise<void> {
	await writeCheckEvent(ctx.db, {
		at: ctx.clock.now().getTime(),
		ip_key: ipKey,
		identifier_key: identifierKey,
		outcome
	});
	countCheck(ctx.metrics, outcome);
}
