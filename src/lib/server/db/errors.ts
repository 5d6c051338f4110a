/** What the two drivers (better-sqlite3, pg) say when a write meets a unique index. */
export function isUniqueViolation(error: unknown): boolean {
	const code = (error as { code?: string } | null)?.code;
	return (
		code === '23505' ||
		code === 'SQLITE_CONSTRAINT_UNIQUE' ||
		code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
	);
}

/** Errors that mean "the database is unreachable right now", answered 503 rather than 500. */
export function isConnectionError(error: unknown): boolean {
	const e = error as { code?: string; message?: string } | null;
	const code = e?.code ?? '';
	return (
		[
			'ECONNREFUSED',
			'ECONNRESET',
			'ETIMEDOUT',
			'EPIPE',
			'57P01',
			'57P02',
			'57P03',
			'08000',
			'08003',
			'08006',
			'SQLITE_BUSY'
		].includes(code) ||
		/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
			e?.message ?? ''
		)
	);
}

/**
 * A unique violation of one single-column unique index: PostgreSQL names the index
 * (`constraint`), SQLite names the column in its message ("UNIQUE constraint failed: t.c").
 */
export function isUniqueViolationOf(
	error: unknown,
	index: { name: string; table: string; column: string }
): boolean {
	if (!isUniqueViolation(error)) return false;
	const { constraint, message } = error as { constraint?: string; message?: string };
	return (
		constraint === index.name ||
		message === `UNIQUE constraint failed: ${index.table}.${index.column}`
	);
}
