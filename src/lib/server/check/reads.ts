import { sql } from 'kysely';
import * as pgJson from 'kysely/helpers/postgres';
import * as sqliteJson from 'kysely/helpers/sqlite';
import { OPEN_APPEAL_STATUSES } from '$lib/types/account';
import { findAccountByIdentifier, rebindDueTo, SESSION_IDLE_TIMEOUT_MS } from '../accounts';
import type { Ctx } from '../core/context';
import type { Identifier } from '../core/identifiers';
import type { Dialect } from '../db/database';
import { precompiled } from '../db/precompiled';
import type { Account } from '../db/schema';

/** The id the reads of an unregistered identifier look for: it matches nothing (R15). */
const NO_ACCOUNT = sql.lit('00000000-0000-0000-0000-000000000000');

/** The one place the dialects differ: how a subquery's rows become one JSON value. */
type JsonHelpers = Pick<typeof sqliteJson, 'jsonArrayFrom' | 'jsonObjectFrom'>;

/**
 * Everything the report reads, in one statement and one round trip (R13, R15): the account row by
 * the identifier's column (left-joined to a single row, so an unknown identifier still answers
 * one row), and beside it, as subqueries keyed by the account's id — or by an id that matches
 * nothing when there is none, so the same statement does the same work either way (R15) — the
 * pending code, the contact changes, the open or held appeal, the recent activity, the §7c
 * security counts, the accounts registered on this device (R10), and whether a held rebind to
 * this identifier is due (§8a). Compiled once per dialect and column (db/precompiled.ts).
 */
function reportRead(json: JsonHelpers, column: 'email' | 'phone') {
	return precompiled((db, p: { value: string; deviceId: string; now: number; idleSince: number }) =>
		db
			.selectFrom(db.selectNoFrom(sql<number>`1`.as('one')).as('one'))
			.leftJoin('accounts', (join) => join.on(`accounts.${column}`, '=', p.value))
			.selectAll('accounts')
			.select((eb) => {
				const accountId = eb.fn.coalesce('accounts.id', NO_ACCOUNT);
				return [
					json
						.jsonObjectFrom(
							eb
								.selectFrom('verification_codes')
								.select(['purpose', 'expires_at', 'attempts', 'consumed_at'])
								.where('identifier', '=', p.value)
								.where('consumed_at', 'is', null)
								.orderBy('created_at', 'desc')
								.limit(1)
						)
						.as('r_code'),
					json
						.jsonArrayFrom(
							eb
								.selectFrom('contact_changes')
								.select('changed_at')
								.where('account_id', '=', accountId)
						)
						.as('r_changes'),
					// An open appeal, or (§8a) an approved one still waiting out its hold; the held one first.
					json
						.jsonObjectFrom(
							eb
								.selectFrom('appeals')
								.select(['due_at', 'status', 'rebind_due_at'])
								.where('account_id', '=', accountId)
								.where('rebound_at', 'is', null)
								.where((w) =>
									w.or([
										w('status', 'in', OPEN_APPEAL_STATUSES),
										w.and([w('status', '=', 'approved'), w('rebind_due_at', '>', p.now)])
									])
								)
								.orderBy(sql`case when status = 'approved' then 0 else 1 end`)
								.orderBy('created_at', 'desc')
								.limit(1)
						)
						.as('r_appeal'),
					json
						.jsonArrayFrom(
							eb
								.selectFrom('audit_events')
								.select(['action', 'at', 'details'])
								.where('subject_kind', '=', 'account')
								.where('subject_id', '=', accountId)
								.orderBy('at', 'desc')
								.limit(5)
						)
						.as('r_activity'),
					// §7c: the verified tier's `security` (two-step on, passkeys, live sessions).
					eb
						.selectFrom('account_totp')
						.select((sub) => sub.fn.countAll<number>().as('n'))
						.where('account_id', '=', accountId)
						.where('confirmed_at', 'is not', null)
						.as('r_totp'),
					eb
						.selectFrom('passkeys')
						.select((sub) => sub.fn.countAll<number>().as('n'))
						.where('account_id', '=', accountId)
						.as('r_passkeys'),
					eb
						.selectFrom('sessions')
						.select((sub) => sub.fn.countAll<number>().as('n'))
						.where('account_id', '=', accountId)
						.where('expires_at', '>', p.now)
						.where('last_active_at', '>', p.idleSince)
						.as('r_sessions'),
					// R10: how many accounts were registered from this device.
					eb
						.selectFrom('accounts as on_device')
						.select((sub) => sub.fn.countAll<number>().as('n'))
						.where('on_device.reg_device_id', '=', p.deviceId)
						.as('r_device_accounts'),
					// §8a: a held appeal whose new contact is this identifier and whose rebind is due.
					eb
						.selectFrom('appeals')
						.select('id')
						.where(rebindDueTo(p.value, p.now))
						.limit(1)
						.as('r_rebind_due')
				];
			})
	);
}

const READS: Record<Dialect, Record<Identifier['kind'], ReturnType<typeof reportRead>>> = {
	postgres: { email: reportRead(pgJson, 'email'), phone: reportRead(pgJson, 'phone') },
	sqlite: { email: reportRead(sqliteJson, 'email'), phone: reportRead(sqliteJson, 'phone') }
};

/** PostgreSQL's driver parses JSON; SQLite answers its text. */
const parsed = <T>(value: T | string): T =>
	typeof value === 'string' ? (JSON.parse(value) as T) : value;

/**
 * Everything the report can say, read with the same statement whether or not an account exists
 * (R15). §8a: a held rebind that is due is applied first, as every read of an account applies it
 * (accounts/find.ts): the rare case reads again after settling it.
 */
export async function gather(ctx: Ctx, identifier: Identifier, deviceId: string) {
	const now = ctx.clock.now();
	const at = now.getTime();
	const read = () =>
		READS[ctx.dialect][identifier.kind].first(ctx.db, {
			value: identifier.value,
			deviceId,
			now: at,
			idleSince: at - SESSION_IDLE_TIMEOUT_MS
		});
	let row = (await read())!;
	const due =
		row.id === null
			? row.r_rebind_due !== null
			: row.rebind_due_at !== null && Number(row.rebind_due_at) <= at;
	if (due && !ctx.db.isTransaction) {
		await findAccountByIdentifier(ctx, identifier);
		row = (await read())!;
	}
	const {
		r_code,
		r_changes,
		r_appeal,
		r_activity,
		r_totp,
		r_passkeys,
		r_sessions,
		r_device_accounts,
		r_rebind_due: _,
		...columns
	} = row;
	const account = columns.id === null ? undefined : (columns as Account);
	const passkeys = Number(r_passkeys ?? 0);
	const security = {
		twoStep: Number(r_totp ?? 0) > 0 || passkeys > 0,
		passkeys,
		activeSessions: Number(r_sessions ?? 0)
	};
	return {
		now,
		account,
		code: parsed(r_code),
		changes: parsed(r_changes),
		appeal: parsed(r_appeal),
		activity: parsed(r_activity),
		deviceAccounts: Number(r_device_accounts ?? 0),
		security
	};
}
