import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseHandle, Dialect } from './database';
import type { MigrationContext } from './migration-context';
import * as initial from './migrations/0001-initial';
import * as appSecrets from './migrations/0002-app-secrets';
import * as appealConsole from './migrations/0003-appeal-console';
import * as checkIndexes from './migrations/0004-check-indexes';
import * as keysOutside from './migrations/0005-keys-outside';
import * as retention from './migrations/0006-retention';
import * as sealedAtRest from './migrations/0007-sealed-at-rest';
import * as documentStore from './migrations/0008-document-store';
import * as sessionsDevices from './migrations/0009-sessions-devices';
import * as twoStep from './migrations/0010-two-step';
import * as recovery from './migrations/0011-recovery';
import * as signInRemedies from './migrations/0012-sign-in-remedies';
import * as codeScope from './migrations/0013-code-scope';
import * as passkeyUserHandle from './migrations/0014-passkey-user-handle';
import * as recoveryDue from './migrations/0015-recovery-due';
import * as sessionEpoch from './migrations/0016-session-epoch';
import * as keyChecks from './migrations/0017-key-checks';
import * as sudoWindow from './migrations/0018-sudo-window';
import * as webhooks from './migrations/0019-webhooks';
import * as dataRights from './migrations/0020-data-rights';

type DialectMigration = {
	up(db: Kysely<unknown>, dialect: Dialect, context: MigrationContext): Promise<void>;
};

/** In code, not read from a folder, so the bundled server carries its migrations with it. */
const migrations: Record<string, DialectMigration> = {
	'0001-initial': initial,
	'0002-app-secrets': appSecrets,
	'0003-appeal-console': appealConsole,
	'0004-check-indexes': checkIndexes,
	'0005-keys-outside': keysOutside,
	'0006-retention': retention,
	'0007-sealed-at-rest': sealedAtRest,
	'0008-document-store': documentStore,
	'0009-sessions-devices': sessionsDevices,
	'0010-two-step': twoStep,
	'0011-recovery': recovery,
	'0012-sign-in-remedies': signInRemedies,
	'0013-code-scope': codeScope,
	'0014-passkey-user-handle': passkeyUserHandle,
	'0015-recovery-due': recoveryDue,
	'0016-session-epoch': sessionEpoch,
	'0017-key-checks': keyChecks,
	'0018-sudo-window': sudoWindow,
	'0019-webhooks': webhooks,
	'0020-data-rights': dataRights
};

export async function migrateToLatest(
	handle: DatabaseHandle,
	context: MigrationContext
): Promise<MigrationResultSet> {
	const bound: Record<string, Migration> = {};
	for (const [name, m] of Object.entries(migrations)) {
		bound[name] = { up: (db) => m.up(db, handle.dialect, context) };
	}
	const migrator = new Migrator({
		db: handle.db,
		provider: { getMigrations: async () => bound },
		...(handle.schema ? { migrationTableSchema: handle.schema } : {})
	});
	const result = await migrator.migrateToLatest();
	if (result.error) {
		const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
		throw new Error(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
	}
	return result;
}

export const migrationNames = Object.keys(migrations);
