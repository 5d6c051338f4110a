import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { audit, readDetails } from '../core/audit';
import { failure, type Failure } from '../core/failures';
import { boundContacts, maskStoredIdentifier } from '../core/identifiers';
import type { RequestMeta } from '../core/request-meta';
import type { Account } from '../db/schema';
import { confirmCurrentPassword } from '../accounts';
import { hasTotp, throttledSecondFactorCode } from '../two-step';
import type { AccountExportFile } from '$lib/schemas/responses';

/**
 * R28, the owner's copy of their data (GDPR Art. 15 and 20): everything held about the account,
 * as one JSON document. Secrets are never in it (no password hash, codes, tokens, TOTP secret,
 * keys, hashed device or session ids), nor other people's data (Art. 15(4)): an appeal filed for
 * the account is listed by its facts (status, times, masked contacts) without the appellant's or
 * support's words, contact or documents; support's entries in the log say what was done and when,
 * not the agent's address or notes; and what the account's previous holder did before an appeal
 * moved the account (R21) keeps no address, and its contacts are masked. Messages are listed by
 * purpose and time: their text is erased once delivered (DATA.md), and it would carry codes.
 */

const iso = (ms: number | string | null) =>
	ms === null ? null : new Date(Number(ms)).toISOString();

export type AccountExport = AccountExportFile;

async function collect(ctx: Ctx, account: Account): Promise<AccountExport> {
	const { db } = ctx;
	const id = account.id;
	const contacts = boundContacts(account).map((c) => c.value);
	const identifierKeys = contacts.map((value) => ctx.keys.hmac('identifier', value));
	// This process's checks of the last moments may still be queued (check/events.ts).
	await ctx.writeBehind.flush();
	const [totp, recoveryCodes, passkeys, devices, sessions, events, changes, appeals, sent, checks] =
		await Promise.all([
			hasTotp(ctx, id),
			db
				.selectFrom('recovery_codes')
				.select((eb) => eb.fn.countAll<number>().as('n'))
				.where('account_id', '=', id)
				.executeTakeFirst(),
			db
				.selectFrom('passkeys')
				.select(['name', 'created_at', 'last_used_at'])
				.where('account_id', '=', id)
				.orderBy('created_at')
				.execute(),
			db
				.selectFrom('account_devices')
				.select(['first_seen_at', 'last_seen_at'])
				.where('account_id', '=', id)
				.orderBy('first_seen_at')
				.execute(),
			db
				.selectFrom('sessions')
				.select(['created_at', 'last_active_at', 'expires_at', 'ip', 'ip_country', 'user_agent'])
				.where('account_id', '=', id)
				.orderBy('created_at')
				.execute(),
			db
				.selectFrom('audit_events')
				.select(['at', 'actor_kind', 'action', 'ip', 'details'])
				.where((eb) =>
					eb.or([
						eb.and([eb('subject_kind', '=', 'account'), eb('subject_id', '=', id)]),
						eb.and([eb('actor_kind', '=', 'account'), eb('actor_id', '=', id)])
					])
				)
				.orderBy('at')
				.orderBy('id')
				.execute(),
			db
				.selectFrom('contact_changes')
				.select(['changed_at', 'kind', 'old_identifier', 'new_identifier'])
				.where('account_id', '=', id)
				.orderBy('changed_at')
				.execute(),
			db
				.selectFrom('appeals')
				.select([
					'reference',
					'status',
					'old_identifier',
					'new_identifier',
					'ip_country',
					'created_at',
					'decided_at',
					'rebind_due_at',
					'rebound_at',
					'cancelled_at',
					'cancelled_by'
				])
				.where('account_id', '=', id)
				.orderBy('created_at')
				.execute(),
			contacts.length === 0
				? Promise.resolve([])
				: db
						.selectFrom('outbox')
						.select(['recipient', 'channel', 'purpose', 'status', 'created_at', 'sent_at'])
						.where('recipient', 'in', contacts)
						.orderBy('created_at')
						.execute(),
			identifierKeys.length === 0
				? Promise.resolve([])
				: db
						.selectFrom('check_events')
						.select(['at', 'outcome'])
						.where('identifier_key', 'in', identifierKeys)
						.orderBy('at')
						.execute()
		]);
	// R21: an appeal moved the account here at this time; what came before was another holder's.
	const rebound = Math.max(
		0,
		...changes.filter((c) => c.kind === 'appeal').map((c) => Number(c.changed_at))
	);
	const ownEntry = (e: { at: number; actor_kind: string }) =>
		(e.actor_kind === 'account' || e.actor_kind === 'anonymous') && Number(e.at) >= rebound;
	return {
		format: 'account-security-check.export',
		version: 1,
		exportedAt: ctx.clock.now().toISOString(),
		account: {
			id,
			email: account.email,
			phone: account.phone,
			status: account.status,
			country: account.country,
			language: account.locale,
			createdAt: iso(account.created_at),
			registrationNetworkCountry: account.reg_ip_country,
			firstOrderAt: iso(account.first_order_at),
			passwordChangedAt: iso(account.password_changed_at),
			frozenAt: iso(account.frozen_at),
			deletionDueAt: iso(account.deletion_due_at)
		},
		twoStep: {
			authenticatorApp: totp,
			recoveryCodesLeft: Number(recoveryCodes?.n ?? 0),
			passkeys: passkeys.map((p) => ({
				name: p.name,
				createdAt: iso(p.created_at),
				lastUsedAt: iso(p.last_used_at)
			}))
		},
		devices: devices.map((d) => ({
			firstSeenAt: iso(d.first_seen_at),
			lastSeenAt: iso(d.last_seen_at)
		})),
		sessions: sessions.map((s) => ({
			startedAt: iso(s.created_at),
			lastActiveAt: iso(s.last_active_at),
			expiresAt: iso(s.expires_at),
			ip: s.ip,
			networkCountry: s.ip_country,
			userAgent: s.user_agent
		})),
		securityEvents: events.map((e) => ({
			at: iso(e.at),
			action: e.action,
			by: e.actor_kind === 'agent' || e.actor_kind === 'admin' ? 'support' : e.actor_kind,
			// The address and details of the account's own steps; support's are the agent's.
			ip: ownEntry(e) ? e.ip : null,
			details: ownEntry(e) || e.actor_kind === 'system' ? readDetails(e.details) : {}
		})),
		contactChanges: changes.map((c) => {
			const before = Number(c.changed_at) < rebound;
			return {
				at: iso(c.changed_at),
				how: c.kind,
				// The contact an appeal replaced, and contacts from before it, were another holder's.
				from:
					before || c.kind === 'appeal' ? maskStoredIdentifier(c.old_identifier) : c.old_identifier,
				to: before ? maskStoredIdentifier(c.new_identifier) : c.new_identifier
			};
		}),
		appeals: appeals.map((a) => ({
			reference: a.reference,
			status: a.status,
			lostContact: maskStoredIdentifier(a.old_identifier),
			newContact: maskStoredIdentifier(a.new_identifier),
			filedFromNetworkCountry: a.ip_country,
			filedAt: iso(a.created_at),
			decidedAt: iso(a.decided_at),
			rebindDueAt: iso(a.rebind_due_at),
			reboundAt: iso(a.rebound_at),
			cancelledAt: iso(a.cancelled_at),
			cancelledBy: a.cancelled_by
		})),
		messagesSent: sent.map((s) => ({
			to: s.recipient,
			channel: s.channel,
			purpose: s.purpose,
			status: s.status,
			queuedAt: iso(s.created_at),
			sentAt: iso(s.sent_at)
		})),
		checksOfYourContacts: checks.map((c) => ({ at: iso(c.at), outcome: c.outcome }))
	};
}

/**
 * `POST /api/v1/account/export`: the password again (its own counter and pause), and with an
 * authenticator app on, a code from it or a recovery code (the second step's counters and
 * delays). Audited (`account.data_exported`), after the collection, so the copy does not list it.
 */
export async function exportAccountData(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string; code?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; data: AccountExport } | Failure> {
	const wrong = await confirmCurrentPassword(ctx, account, input.currentPassword, 'data-export');
	if (wrong) return wrong;
	if (await hasTotp(ctx, account.id)) {
		if (!input.code)
			return failure(403, 'second_factor_required', m.error_second_factor_required(), {
				field: 'code'
			});
		const accepted = await throttledSecondFactorCode(ctx, account.id, input.code, meta);
		if (typeof accepted !== 'string') return accepted;
	}
	const data = await collect(ctx, account);
	await audit(ctx, {
		actorKind: 'account',
		actorId: account.id,
		action: 'account.data_exported',
		subjectKind: 'account',
		subjectId: account.id,
		ip: meta.ip,
		details: { ipCountry: meta.ipCountry ?? null }
	});
	return { ok: true, data };
}

/** The file's name: the date only, nothing about the person. */
export function exportFileName(data: AccountExport): string {
	return `account-data-${data.exportedAt.slice(0, 10)}.json`;
}
