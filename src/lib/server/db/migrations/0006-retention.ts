import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

/** Retention (see docs/DATA.md): filled in by the retention work. */
export async function up(_db: Kysely<unknown>, _dialect: Dialect): Promise<void> {}
