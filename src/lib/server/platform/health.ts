import { sql } from 'kysely';
import type { Ctx } from '../core/context';
import { migrationNames } from '../db/migrate';

export type Readiness =
	| { ready: true }
	| {
			ready: false;
			reason: 'database_unreachable' | 'database_timeout' | 'migrations_pending';
			pending?: string[];
	  };

/** A load balancer retries soon anyway: an answer within ~2 s beats an accurate one later. */
const READINESS_TIMEOUT_MS = 2_000;

class Timeout extends Error {}

/**
 * /readyz: the database answers and every migration this build carries is recorded in Kysely's
 * `kysely_migration` table (the same query proves both).
 */
export async function checkReadiness(
	ctx: Ctx,
	timeoutMs: number = READINESS_TIMEOUT_MS
): Promise<Readiness> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Timeout()), timeoutMs);
	});
	try {
		// A test database's PostgreSQL schema is its search_path, where Kysely keeps this table too.
		const query = sql<{ name: string }>`select name from kysely_migration`;
		// On PostgreSQL the server abandons the query too, so hung probes do not pile up in the pool.
		const answer =
			ctx.dialect === 'postgres'
				? ctx.db.transaction().execute(async (trx) => {
						await sql`set local statement_timeout = ${sql.lit(timeoutMs + 500)}`.execute(trx);
						return query.execute(trx);
					})
				: query.execute(ctx.db);
		answer.catch(() => {}); // a late failure after the deadline is not an unhandled rejection
		const rows = await Promise.race([answer, deadline]);
		const applied = new Set(rows.rows.map((r) => r.name));
		const pending = migrationNames.filter((name) => !applied.has(name));
		return pending.length === 0
			? { ready: true }
			: { ready: false, reason: 'migrations_pending', pending };
	} catch (error) {
		// A missing migration table is a database that was never migrated, not an outage.
		if (error instanceof Timeout) return { ready: false, reason: 'database_timeout' };
		if (
			/kysely_migration/.test(String(error)) &&
			/no such table|does not exist/.test(String(error))
		) {
			return { ready: false, reason: 'migrations_pending', pending: [...migrationNames] };
		}
		return { ready: false, reason: 'database_unreachable' };
	} finally {
		clearTimeout(timer);
	}
}
