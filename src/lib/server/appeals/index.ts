/**
 * appeals/ — the lost-contact appeal (R19) and its handling by support: submission with
 * identity documents (documents/: type by content, rebuilt from pixels, encrypted at rest),
 * status, the 48-hour deadline (R20), claims and decisions (R21), the queue (R22) and the
 * messages each step sends; recovery the owner controls (§8a: every appeal announced to the
 * account's contacts with a cancel link, the hold before the rebind, the rebind applied once).
 * Imported only through this file.
 */

export { answerAppeal, appealAnswerAllowed, appealStatus, normalizeReference } from './status';
export { openAppealStatus } from './status';
export { normalizeStatusCode } from './status-code';
export { appealSubmissionAllowed, submitAppeal } from './submit';
export { uploadedFiles, uploadsBusy } from './uploads';
export { assignAppeal, claimAppeal, decideAppeal } from './decisions';
export {
	cancelRecoveryByLink,
	cancelRecoveryByOwner,
	pendingRecovery,
	startRecoveryJobs
} from './recovery';
export type { Decision } from './decisions';
export { MAX_DOCUMENTS_PER_UPLOAD, MAX_DOCUMENT_BYTES } from './documents/inspect';
export type { UploadedFile } from './documents/inspect';
export { createDocumentPool, parseMultipartBody } from './documents/pool';
export type { FormEntry } from './documents/pool';
export { deleteDocumentContent, importLegacyDocumentFiles } from './documents/store';
export { QUEUE_FILTERS, appealForAgent, listQueue, openDocument } from './queue';
export type { QueueFilter } from './queue';
export { appealEvidence } from './evidence';
