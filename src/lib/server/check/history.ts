import type { Ctx } from '../core/context';
import type { Identifier } from '../core/identifiers';

/**
 * R15: the checks run against an account, for agents. check_events holds only keyed hashes
 * (R4), so the account's identifiers are hashed the same way the check hashed them.
 */
const RECENT_CHECKS_LIMIT = 20;
const RECENT_CHECKS_WINDOW_MS = 7 * 86_400_000;
/** R15: an address with more than this many checks in the last hour is a burst. */
export const CHECK_BURST_MIN = 10;
const CHECK_BURST_WINDOW_MS = 3_600_000;

export interface CheckHistory {
	/** Checks against the account's identifiers in the last 7 days. */
	countLast7Days: number;
	recent: { at: string; outcome: string; ipKey: string }[];
	/**
	 * R15: addresses that checked this account in the last hour and ran more than
	 * CHECK_BURST_MIN checks in that hour in all (enumeration shows up here).
	 */
	bursts: { ipKey: string; total: number; againstAccount: number }[];
}

/** Hashed addresses are long; a prefix is enough for an agent to tell them apart. */
const shortKey = (key: string) => key.slice(0, 12);

export async function checkHistory(ctx: Ctx, identifiers: Identifier[]): Promise<CheckHistory> {
	const { db } = ctx;
	const keys = identifiers.map((id) => ctx.keys.hmac('identifier', id.value));
	if (keys.length === 0) return { countLast7Days: 0, recent: [], bursts: [] };
	// This process's checks of the last moments may still be queued (check/events.ts): stored
	// first (never from inside a transaction: on SQLite it holds the one connection the write needs).
	if (!db.isTransaction) await ctx.writeBehind.flush();
	const now = ctx.clock.now().getTime();
	const [count, recent, lastHour] = await Promise.all([
		db
			.selectFrom('check_events')
			.select((eb) => eb.fn.countAll<string | number>().as('n'))
			.where('identifier_key', 'in', keys)
			.where('at', '>', now - RECENT_CHECKS_WINDOW_MS)
			.executeTakeFirstOrThrow(),
		db
			.selectFrom('check_events')
			.select(['at', 'outcome', 'ip_key'])
			.where('identifier_key', 'in', keys)
			.orderBy('at', 'desc')
			.orderBy('id', 'desc')
			.limit(RECENT_CHECKS_LIMIT)
			.execute(),
		db
			.selectFrom('check_events')
			.select(['ip_key', (eb) => eb.fn.countAll<string | number>().as('n')])
			.where('identifier_key', 'in', keys)
			.where('at', '>', now - CHECK_BURST_WINDOW_MS)
			.groupBy('ip_key')
			.execute()
	]);
	const ipKeys = lastHour.map((r) => r.ip_key);
	const totals =
		ipKeys.length === 0
			? []
			: await db
					.selectFrom('check_events')
					.select(['ip_key', (eb) => eb.fn.countAll<string | number>().as('n')])
					.where('ip_key', 'in', ipKeys)
					.where('at', '>', now - CHECK_BURST_WINDOW_MS)
					.groupBy('ip_key')
					.execute();
	const totalByKey = new Map(totals.map((r) => [r.ip_key, Number(r.n)]));
	const bursts = lastHour
		.map((r) => ({
			ipKey: shortKey(r.ip_key),
			total: totalByKey.get(r.ip_key) ?? Number(r.n),
			againstAccount: Number(r.n)
		}))
		.filter((b) => b.total > CHECK_BURST_MIN)
		.sort((a, b) => b.total - a.total);
	return {
		countLast7Days: Number(count.n),
		recent: recent.map((r) => ({
			at: new Date(Number(r.at)).toISOString(),
			outcome: r.outcome,
			ipKey: shortKey(r.ip_key)
		})),
		bursts
	};
}
