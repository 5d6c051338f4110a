/**
 * data-rights/ — the owner's rights over their data (R28, GDPR Art. 15, 17, 20): a copy of
 * everything held about the account (`export.ts`), a deletion that waits 14 days and can be
 * cancelled by the owner or any bound contact (`deletion.ts`), and the erasure when it falls due
 * (`erasure.ts`, run by the retention job). Other folders import it only through this file.
 */

export { exportAccountData, exportFileName } from './export';
export type { AccountExport } from './export';
export {
	cancelDeletionByLink,
	cancelDeletionByOwner,
	deletionDueAt,
	keepAccount,
	requestDeletion
} from './deletion';
export { eraseAccount, eraseDueAccounts, startErasureJob } from './erasure';
