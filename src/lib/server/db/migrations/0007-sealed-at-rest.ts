import type { Kysely } from 'kysely';
import type { Dialect } from '../database';
import type { MigrationContext } from '../migrate';

/** Secrets at rest sealed with the key ring: filled in by the at-rest work. */
export async function up(_db: Kysely<unknown>, _dialect: Dialect, _context: MigrationContext): Promise<void> {}
