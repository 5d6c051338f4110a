import type { Keyring } from '../core/keys';

/**
 * What a migration may need besides the database: the key ring, to seal what was stored in
 * clear. Its own module, so a migration imports it without importing migrate.ts, which imports
 * every migration.
 */
export interface MigrationContext {
	keys: Keyring;
}
