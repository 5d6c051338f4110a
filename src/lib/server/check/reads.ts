import { sql } from 'kysely';
import {
	findAccountByIdentifier,
	countAccountsOnDevice,
	SESSION_IDLE_TIMEOUT_MS
} from '../accounts';
import type { Ctx } from '../core/context';
import type { Identifier } from '../core/identifiers';
import { precompiled } from '../db/precompiled';

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
export async function gather(ctx: Ctx, identifier: Identifier, deviceId: string) {
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
