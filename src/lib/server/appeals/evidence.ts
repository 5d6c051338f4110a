import type { Ctx } from '../core/context';
import type { CodePurpose } from '../db/schema';

/** §8: the lost contact's activity is looked for in the 14 days before the appeal was filed. */
const EVIDENCE_WINDOW_DAYS = 14;
const WINDOW_MS = EVIDENCE_WINDOW_DAYS * 86_400_000;
const CODE_PURPOSES: readonly CodePurpose[] = [
	'register',
	'check',
	'contact_change',
	'password_reset',
	'appeal'
];
/** Audit actions of the account's own requests whose details carry `ipCountry`. */
const COUNTRY_ACTIONS = [
	'session.signed_in',
	'account.password_reset',
	'account.contact_changed',
	'account.password_changed'
];

/** One thing that happened to the lost contact or the account shortly before the appeal. */
interface LostContactEvent {
	what: 'code_sent' | 'code_used' | 'password_reset' | 'contact_changed';
	/** For codes: what the code was for. */
	purpose: CodePurpose | null;
	at: string;
}

/**
 * §8 evidence for the agent deciding an appeal: each warning sign with the moment it refers to.
 * A sign is present only when its fact is true; none at all is the "no warning signs" state.
 */
export type EvidenceFlag =
	| { kind: 'lost_contact_active'; at: string; events: LostContactEvent[] }
	| { kind: 'new_network_country'; at: string; country: string; knownCountries: string[] }
	| {
			kind: 'second_factor';
			at: string;
			totpSince: string | null;
			passkeys: number;
			/** When the first passkey still registered was added. */
			passkeysSince: string | null;
	  }
	| { kind: 'frozen'; at: string }
	| {
			kind: 'earlier_appeal_cancelled';
			at: string;
			appeals: { reference: string; cancelledAt: string; cancelledBy: 'link' | 'owner' | null }[];
	  };

export interface AppealEvidence {
	/** The filing network's country (null: unknown). */
	networkCountry: string | null;
	filedAt: string;
	windowDays: number;
	flags: EvidenceFlag[];
}

const iso = (ms: number) => new Date(Number(ms)).toISOString();

function detailCountry(details: string | null): string | null {
	if (!details) return null;
	try {
		const parsed = JSON.parse(details) as { ipCountry?: unknown };
		return typeof parsed.ipCountry === 'string' && parsed.ipCountry ? parsed.ipCountry : null;
	} catch {
		return null;
	}
}

/**
 * §8: the warning signs an agent sees before approving an appeal, computed from what the system
 * recorded: (a) the lost contact received or used a code, or the account had a password reset or
 * a contact change, in the 14 days before the filing; (b) the appeal came from a network country
 * the account never used before it; (c) the account has two-step or passkeys; (d) the owner froze
 * the account; (e) an earlier appeal for the account was cancelled by its holder. Null when the
 * appeal does not exist.
 */
export async function appealEvidence(ctx: Ctx, appealId: string): Promise<AppealEvidence | null> {
	const { db } = ctx;
	const appeal = await db
		.selectFrom('appeals')
		.select(['id', 'account_id', 'old_identifier', 'created_at', 'ip_country'])
		.where('id', '=', appealId)
		.executeTakeFirst();
	if (!appeal) return null;
	const filedAt = Number(appeal.created_at);
	const from = filedAt - WINDOW_MS;
	const accountId = appeal.account_id;
	const lost = appeal.old_identifier;
	const flags: EvidenceFlag[] = [];

	// (a) Codes sent to the lost contact (the outbox keeps what was sent for days; the code rows
	// only a day, so both are read), codes it used, and the account's resets and contact changes.
	const [sent, codes, changes, resets] = await Promise.all([
		db
			.selectFrom('outbox')
			.select(['purpose', 'created_at'])
			.where('recipient', '=', lost)
			.where('purpose', 'in', CODE_PURPOSES)
			.where('created_at', '>=', from)
			.where('created_at', '<=', filedAt)
			.execute(),
		db
			.selectFrom('verification_codes')
			.select(['purpose', 'created_at', 'consumed_at'])
			.where('identifier', '=', lost)
			.where((eb) =>
				eb.or([
					eb.and([eb('created_at', '>=', from), eb('created_at', '<=', filedAt)]),
					eb.and([eb('consumed_at', '>=', from), eb('consumed_at', '<=', filedAt)])
				])
			)
			.execute(),
		db
			.selectFrom('contact_changes')
			.select(['changed_at'])
			.where((eb) =>
				eb.or([
					eb('old_identifier', '=', lost),
					eb('new_identifier', '=', lost),
					...(accountId ? [eb('account_id', '=', accountId)] : [])
				])
			)
			.where('changed_at', '>=', from)
			.where('changed_at', '<=', filedAt)
			.execute(),
		accountId
			? db
					.selectFrom('audit_events')
					.select(['at'])
					.where('subject_kind', '=', 'account')
					.where('subject_id', '=', accountId)
					.where('action', '=', 'account.password_reset')
					.where('at', '>=', from)
					.where('at', '<=', filedAt)
					.execute()
			: Promise.resolve([])
	]);
	const events: LostContactEvent[] = [];
	const sentAt = new Set<string>();
	for (const s of sent) {
		events.push({ what: 'code_sent', purpose: s.purpose as CodePurpose, at: iso(s.created_at) });
		sentAt.add(`${s.purpose}|${Math.floor(Number(s.created_at) / 1000)}`);
	}
	for (const c of codes) {
		const created = Number(c.created_at);
		// The same code as an outbox row (written in the same request): listed once.
		if (created >= from && !sentAt.has(`${c.purpose}|${Math.floor(created / 1000)}`))
			events.push({ what: 'code_sent', purpose: c.purpose, at: iso(created) });
		if (c.consumed_at !== null && Number(c.consumed_at) >= from && Number(c.consumed_at) <= filedAt)
			events.push({ what: 'code_used', purpose: c.purpose, at: iso(c.consumed_at) });
	}
	for (const r of resets) events.push({ what: 'password_reset', purpose: null, at: iso(r.at) });
	for (const c of changes)
		events.push({ what: 'contact_changed', purpose: null, at: iso(c.changed_at) });
	if (events.length > 0) {
		events.sort((a, b) => b.at.localeCompare(a.at));
		flags.push({ kind: 'lost_contact_active', at: events[0]!.at, events });
	}

	if (!accountId)
		return {
			networkCountry: appeal.ip_country,
			filedAt: iso(filedAt),
			windowDays: EVIDENCE_WINDOW_DAYS,
			flags
		};

	const [account, sessions, audits, totp, passkeys, cancelled] = await Promise.all([
		db
			.selectFrom('accounts')
			.select(['reg_ip_country', 'frozen_at'])
			.where('id', '=', accountId)
			.executeTakeFirst(),
		db
			.selectFrom('sessions')
			.select('ip_country')
			.distinct()
			.where('account_id', '=', accountId)
			.where('ip_country', 'is not', null)
			.where('created_at', '<=', filedAt)
			.execute(),
		db
			.selectFrom('audit_events')
			.select('details')
			.where('subject_kind', '=', 'account')
			.where('subject_id', '=', accountId)
			.where('actor_kind', '=', 'account')
			.where('action', 'in', COUNTRY_ACTIONS)
			.where('at', '<=', filedAt)
			.execute(),
		db
			.selectFrom('account_totp')
			.select('confirmed_at')
			.where('account_id', '=', accountId)
			.where('confirmed_at', 'is not', null)
			.executeTakeFirst(),
		db
			.selectFrom('passkeys')
			.select('created_at')
			.where('account_id', '=', accountId)
			.orderBy('created_at')
			.execute(),
		db
			.selectFrom('appeals')
			.select(['reference', 'cancelled_at', 'cancelled_by'])
			.where('account_id', '=', accountId)
			.where('id', '!=', appeal.id)
			.where('cancelled_at', 'is not', null)
			.where('created_at', '<=', filedAt)
			.orderBy('cancelled_at', 'desc')
			.execute()
	]);

	// (b) The filing network's country, against every country the account was used from before.
	if (appeal.ip_country) {
		const known = new Set<string>();
		if (account?.reg_ip_country) known.add(account.reg_ip_country);
		for (const s of sessions) if (s.ip_country) known.add(s.ip_country);
		for (const a of audits) {
			const country = detailCountry(a.details);
			if (country) known.add(country);
		}
		if (!known.has(appeal.ip_country))
			flags.push({
				kind: 'new_network_country',
				at: iso(filedAt),
				country: appeal.ip_country,
				knownCountries: [...known].sort()
			});
	}

	// (c) Second factors the owner set up: a thief rarely has them, an owner might still sign in.
	if (totp || passkeys.length > 0) {
		const since = [
			...(totp?.confirmed_at != null ? [Number(totp.confirmed_at)] : []),
			...passkeys.map((p) => Number(p.created_at))
		];
		flags.push({
			kind: 'second_factor',
			at: iso(Math.min(...since)),
			totpSince: totp?.confirmed_at != null ? iso(totp.confirmed_at) : null,
			passkeys: passkeys.length,
			passkeysSince: passkeys[0] ? iso(passkeys[0].created_at) : null
		});
	}

	// (d) The owner froze the account.
	if (account?.frozen_at != null) flags.push({ kind: 'frozen', at: iso(account.frozen_at) });

	// (e) An earlier appeal for the account was stopped by its holder.
	if (cancelled.length > 0)
		flags.push({
			kind: 'earlier_appeal_cancelled',
			at: iso(cancelled[0]!.cancelled_at!),
			appeals: cancelled.map((c) => ({
				reference: c.reference,
				cancelledAt: iso(c.cancelled_at!),
				cancelledBy: c.cancelled_by
			}))
		});

	return {
		networkCountry: appeal.ip_country,
		filedAt: iso(filedAt),
		windowDays: EVIDENCE_WINDOW_DAYS,
		flags
	};
}
